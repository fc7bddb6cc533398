"""Keeps the service's loops running: a loop that dies is logged under its own name and
started again with backoff; one that keeps dying at once cannot run, and says so."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.backoff import backoff_delay

log = logging.getLogger(__name__)


class LoopCannotRun(Exception):
    """A loop failed every time it was started; the message is one line for the user."""


async def supervise(name: str, loop: Callable[[asyncio.Event], Awaitable[None]],
                    stop: asyncio.Event, *, base: float = 1.0, cap: float = 60.0,
                    max_quick_failures: int = 6, quick: float = 30.0) -> None:
    """Run `loop(stop)` until `stop` is set, restarting it whenever it ends or raises.

    Restarts wait 1, 2, 4, ... seconds (`base`, at most `cap`). A loop that failed
    `max_quick_failures` times in a row, each within `quick` seconds of its start,
    cannot run: LoopCannotRun, naming it and its last error.
    """
    failures = 0
    while not stop.is_set():
        started = time.monotonic()
        task = asyncio.create_task(loop(stop), name=name)
        error: BaseException | None = None
        try:
            await task
            if stop.is_set():
                return
            log.error("%s stopped by itself; starting it again", name)
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():
                raise  # the supervisor itself is being cancelled (the loop is, with it)
            log.error("%s was cancelled; starting it again", name)
        except Exception as exc:
            error = exc
            log.error("%s died: %r; starting it again", name, exc, exc_info=exc)
        failures = failures + 1 if time.monotonic() - started < quick else 1
        if failures >= max_quick_failures:
            reason = f"{error!r}" if error is not None else "it keeps stopping by itself"
            raise LoopCannotRun(f"the {name} cannot run: {reason}")
        delay = backoff_delay(failures - 1, base, cap)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


async def run_supervised(loops: dict[str, Callable[[asyncio.Event], Awaitable[None]]],
                         stop: asyncio.Event, base: float = 1.0) -> None:
    """Every loop under `supervise` until `stop` is set; if one cannot run, the others are
    stopped too and its LoopCannotRun is raised."""
    tasks = {name: asyncio.create_task(supervise(name, loop, stop, base=base),
                                       name=f"supervising {name}")
             for name, loop in loops.items()}
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([stopped, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    stop.set()
    log.info("stopping: finishing the polls and sends in flight")
    failure: LoopCannotRun | None = None
    for name, result in zip(tasks, await asyncio.gather(*tasks.values(), return_exceptions=True)):
        if isinstance(result, LoopCannotRun):
            failure = failure or result
        elif isinstance(result, BaseException):
            log.error("%s ended with %r", name, result)
    if failure is not None:
        raise failure
