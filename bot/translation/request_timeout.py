"""A default timeout for the HTTP requests deep-translator makes from translation threads."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import requests

# deep-translator calls requests.get/post with no timeout and no way to pass a
# Session, so a stalled server would hold a thread forever. Requests made from
# our translation threads get that thread's timeout when the caller set none;
# requests made anywhere else are untouched.
_thread_defaults = threading.local()


def install_request_timeout() -> None:
    original = requests.Session.request
    if getattr(original, "_default_timeout_installed", False):
        return

    @functools.wraps(original)
    def request(self: requests.Session, method: str, url: str, *args: object, **kwargs: object):
        timeout = getattr(_thread_defaults, "timeout", None)
        if timeout is not None and kwargs.get("timeout") is None and not args:
            kwargs["timeout"] = timeout
        return original(self, method, url, *args, **kwargs)

    request._default_timeout_installed = True  # type: ignore[attr-defined]
    requests.Session.request = request  # type: ignore[method-assign]


@contextmanager
def thread_timeout(timeout: float) -> Iterator[None]:
    """Requests this thread makes inside the block get `timeout` when their caller set none."""
    _thread_defaults.timeout = timeout
    try:
        yield
    finally:
        _thread_defaults.timeout = None
