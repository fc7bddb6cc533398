"""One polite HTTP GET of a feed: conditional, capped, redirect- and address-checked."""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot import USER_AGENT
from bot.config import PollingConfig
from bot.feeds import FeedError, one_line
from bot.feeds.address import AddressGuard, GuardedNetwork
from bot.feeds.body import read_decoded

MAX_REDIRECTS = 5
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
          "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
_REDIRECTS = (301, 302, 303, 307, 308)
REASON_MAX = 100  # characters of an HTTP reason phrase kept in a feed's error
URL_SHOWN = 200  # characters of a URL named in a feed's error

class FetchError(FeedError):
    """A fetch that failed in an expected way; str() is one line for the feed's health.

    `retry_after` is the delay in seconds a 429 or 503 asked for, if it named one.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchResult:
    url: str  # after redirects
    status: int  # 200, or 304 when the validators still hold
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    # What the response says of polling it again and of its WebSub hub (lower-case
    # names: cache-control, expires, date, retry-after, link), for the scheduler.
    hints: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over sockets the address guard opens.

    httpx takes no network backend as a parameter, so the connection pool is
    rebuilt with one; everything else (request and response mapping) is httpx's.
    """

    def __init__(self, guard: AddressGuard, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetwork(guard),
        )


def make_client(polling: PollingConfig, guard: AddressGuard | None = None) -> httpx.AsyncClient:
    """The one client all feeds share: pooled connections, our User-Agent, our timeout,
    and every connection, redirects included, to an address the guard allowed."""
    limits = httpx.Limits(max_connections=polling.concurrency,
                          max_keepalive_connections=polling.concurrency)
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT,
                 "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(polling.timeout),
        transport=_GuardedTransport(guard or AddressGuard.from_config(polling), limits),
        follow_redirects=False,  # followed by hand: each hop's scheme is checked
    )


async def fetch_feed(client: httpx.AsyncClient, url: str, polling: PollingConfig, *,
                     etag: str | None = None,
                     last_modified: str | None = None) -> FetchResult:
    """GET a feed within `polling.timeout` and `polling.max_bytes`; FetchError if not."""
    try:
        async with asyncio.timeout(polling.timeout):
            return await _fetch(client, url, polling, etag, last_modified)
    except FetchError:
        raise
    except FeedError as exc:  # refused address, oversized or corrupt body
        raise FetchError(str(exc)) from None
    except TimeoutError:
        raise FetchError(f"timed out after {polling.timeout:g}s") from None
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {polling.timeout:g}s") from None
    except httpx.ConnectError as exc:
        raise FetchError(_connect_problem(exc)) from None
    except httpx.TooManyRedirects:
        raise FetchError("too many redirects") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {one_line(exc)}") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"malformed URL: {one_line(exc)}") from None


async def _fetch(client: httpx.AsyncClient, url: str, polling: PollingConfig,
                 etag: str | None, last_modified: str | None) -> FetchResult:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _hop in range(MAX_REDIRECTS + 1):
        _check_url(url)
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code == 304:
                if not headers:
                    # Nothing to be unmodified from: an answer with no feed in it.
                    raise FetchError("HTTP 304 Not Modified to a request without validators")
                await response.aread()  # drained, so the connection goes back to the pool
                return FetchResult(url, 304, b"", None, etag, last_modified,
                                   _hints(response.headers))
            if response.status_code != 200:
                # A reason phrase is the server's free text, kilobytes of it at worst.
                reason = " ".join(response.reason_phrase.split())[:REASON_MAX]
                reason = f" {reason}" if reason else ""
                retry_after = None
                if response.status_code in (429, 503):
                    retry_after = retry_after_seconds(response.headers.get("retry-after"),
                                                      time.time())
                raise FetchError(f"HTTP {response.status_code}{reason}", retry_after)
            body = await _read_capped(response, polling.max_bytes)
            return FetchResult(url, 200, body, response.headers.get("content-type"),
                               response.headers.get("etag"),
                               response.headers.get("last-modified"),
                               _hints(response.headers))
    raise FetchError("too many redirects")


_HINTS = ("cache-control", "expires", "date", "retry-after", "link")


def _hints(headers: httpx.Headers) -> dict[str, str]:
    return {name: headers[name][:2000] for name in _HINTS if name in headers}


def _check_url(url: str) -> None:
    """FetchError unless `url` (the feed's, or a redirect's Location) can be requested."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a port past 65535
    except ValueError as exc:
        raise FetchError(f"refused: malformed URL ({one_line(exc)}): {url[:URL_SHOWN]}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"refused: not an http(s) URL: {url[:URL_SHOWN]}")


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from `now`; None if absent
    or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now, 0.0)


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"response larger than {max_bytes} bytes")
    # Raw bytes, inflated here within the cap: httpx would inflate a bomb whole first.
    return await read_decoded(response.aiter_raw(), response.headers.get("content-encoding", ""),
                              max_bytes)


def _connect_problem(exc: httpx.ConnectError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = one_line(exc)
    if "refused" in text.lower():
        return "connection refused"
    return f"cannot connect: {text}"

