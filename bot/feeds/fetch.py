"""One polite HTTP GET of a feed: conditional, capped, redirect- and address-checked."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from bot import USER_AGENT
from bot.config import PollingConfig
from bot.feeds import FeedError

MAX_REDIRECTS = 5
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
          "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
_REDIRECTS = (301, 302, 303, 307, 308)

class FetchError(FeedError):
    """A fetch that failed in an expected way; str() is one line for the feed's health."""


@dataclass(frozen=True)
class FetchResult:
    url: str  # after redirects
    status: int  # 200, or 304 when the validators still hold
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class AddressGuard:
    """Refuses hosts that are or resolve to loopback, private or link-local addresses.

    `exempt` lists networks allowed anyway (a test's own 127.0.0.1 while it checks
    that a redirect to 10.0.0.1 is still refused).
    """

    allow_private: bool = False
    exempt: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_config(cls, polling: PollingConfig) -> AddressGuard:
        return cls(allow_private=polling.allow_private_addresses)

    async def check(self, url: str) -> None:
        if self.allow_private:
            return
        parts = urlsplit(url)
        host = (parts.hostname or "").strip("[]")
        if not host:
            raise FetchError(f"refused: no host in {url}")
        for address in await _addresses(host, parts.port or (443 if parts.scheme == "https" else 80)):
            if _is_private(address) and not any(address in net for net in self.exempt):
                raise FetchError(f"refused: private address {address}")


async def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    found = []
    for *_, sockaddr in infos:
        found.append(ipaddress.ip_address(sockaddr[0].split("%")[0]))
    return found


def _is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_unspecified or address.is_reserved or address.is_multicast)


def make_client(polling: PollingConfig) -> httpx.AsyncClient:
    """The one client all feeds share: pooled connections, our User-Agent, our timeout."""
    limits = httpx.Limits(max_connections=polling.concurrency,
                          max_keepalive_connections=polling.concurrency)
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT,
                 "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(polling.timeout),
        limits=limits,
        follow_redirects=False,  # followed by hand so each hop's address is checked
    )


async def fetch_feed(client: httpx.AsyncClient, url: str, polling: PollingConfig, *,
                     etag: str | None = None, last_modified: str | None = None,
                     guard: AddressGuard | None = None) -> FetchResult:
    """GET a feed within `polling.timeout` and `polling.max_bytes`; FetchError if not."""
    guard = guard or AddressGuard.from_config(polling)
    try:
        async with asyncio.timeout(polling.timeout):
            return await _fetch(client, url, polling, etag, last_modified, guard)
    except TimeoutError:
        raise FetchError(f"timed out after {polling.timeout:g}s") from None
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {polling.timeout:g}s") from None
    except httpx.ConnectError as exc:
        raise FetchError(_connect_problem(exc)) from None
    except httpx.TooManyRedirects:
        raise FetchError("too many redirects") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {_one_line(exc)}") from None


async def _fetch(client: httpx.AsyncClient, url: str, polling: PollingConfig,
                 etag: str | None, last_modified: str | None,
                 guard: AddressGuard) -> FetchResult:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _hop in range(MAX_REDIRECTS + 1):
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(f"refused: not an http(s) URL: {url}")
        await guard.check(url)
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code == 304:
                await response.aread()  # drained, so the connection goes back to the pool
                return FetchResult(url, 304, b"", None, etag, last_modified)
            if response.status_code != 200:
                reason = f" {response.reason_phrase}" if response.reason_phrase else ""
                raise FetchError(f"HTTP {response.status_code}{reason}")
            body = await _read_capped(response, polling.max_bytes)
            return FetchResult(url, 200, body, response.headers.get("content-type"),
                               response.headers.get("etag"),
                               response.headers.get("last-modified"))
    raise FetchError("too many redirects")


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    too_big = FetchError(f"response larger than {max_bytes} bytes")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():  # decompressed: a gzip bomb hits the cap too
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _connect_problem(exc: httpx.ConnectError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = _one_line(exc)
    if "refused" in text.lower():
        return "connection refused"
    return f"cannot connect: {text}"


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())[:200]
