"""Which addresses a feed may be fetched from, enforced where the socket is opened.

A host is resolved once; every address must be globally routable (ipaddress's
`is_global`: no loopback, private, link-local, shared CGNAT 100.64/10, reserved)
and the connection goes to an address that was checked, so a name that
resolves elsewhere a moment later (DNS rebinding) gains nothing. The URL is not
rewritten: httpcore still sends the Host header and TLS server name of the URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore

from bot.config import PollingConfig
from bot.feeds import FeedError, one_line

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class AddressRefused(FeedError):
    """The host is, or resolves to, an address feeds may not be fetched from."""


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The host's addresses from the system resolver, in its order of preference."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise AddressRefused(f"cannot resolve {host}: {exc.strerror or exc}") from None
    except UnicodeError:  # the IDNA codec refuses an empty label or one past 63 characters
        raise AddressRefused(f"cannot resolve {host[:100]}: not a valid host name") from None
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in found:
            found.append(address)
    return found


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class AddressGuard:
    """Resolves hosts and refuses non-public addresses unless allowed.

    `exempt` lists networks allowed anyway (a test's own 127.0.0.1 while it checks
    that a redirect to 10.0.0.1 is still refused); `resolve` is the resolver, a
    stub in tests.
    """

    allow_private: bool = False
    exempt: tuple[IPNetwork, ...] = ()
    resolve: Resolver = system_resolver

    @classmethod
    def from_config(cls, polling: PollingConfig) -> AddressGuard:
        return cls(allow_private=polling.allow_private_addresses)

    def allows(self, address: IPAddress) -> bool:
        return (self.allow_private or is_public(address)
                or any(address in net for net in self.exempt))

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """Where `host` may be reached: every address it resolves to, all allowed."""
        host = host.strip("[]")
        if not host:
            raise AddressRefused("refused: no host")
        try:
            found: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            found = await self.resolve(host, port)
        if not found:
            raise AddressRefused(f"cannot resolve {host}: no address")
        for address in found:
            if not self.allows(address):
                raise AddressRefused(f"refused: private address {address}")
        return found

    async def check(self, url: str) -> None:
        """AddressRefused unless the URL's host resolves to allowed addresses only."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise AddressRefused(f"refused: malformed URL ({exc})") from None
        if not parts.hostname:
            raise AddressRefused(f"refused: no host in {url}")
        if self.allow_private:
            return  # every address is allowed: resolving would only cost a DNS query
        await self.addresses(parts.hostname, port)


def _innermost(exc: BaseException) -> BaseException:
    """The first exception at the bottom of nested exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class GuardedNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's sockets, opened only to addresses the guard resolved and allowed."""

    def __init__(self, guard: AddressGuard,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options=None) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await self.guard.addresses(host, port):
            try:
                return await self.inner.connect_tcp(str(address), port, timeout=timeout,
                                                    local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address, as a resolver's caller would
            except (ExceptionGroup, OverflowError, ValueError) as exc:
                # What httpcore leaves unmapped (anyio's group around the socket's
                # OverflowError for port 99999) is a failed connect like any other.
                failure = httpcore.ConnectError(one_line(_innermost(exc)))
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options=None) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("refused: unix sockets are not feeds")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
