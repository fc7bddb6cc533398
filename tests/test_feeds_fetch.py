"""Fetching over real HTTP on 127.0.0.1: validators, gzip, caps, redirects, refusals."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import re
import socket
import struct
import threading
import time
import zlib

import psutil
import pytest
from fakes.feeds import FeedServer, fixture, refused_url

from bot import USER_AGENT
from bot.config import PollingConfig
from bot.feeds import FeedError
from bot.feeds.address import AddressGuard
from bot.feeds.fetch import FetchError, fetch_feed, make_client, retry_after_seconds
from bot.feeds.poll import fetch_and_parse

LOCAL = PollingConfig(timeout=1.0, max_bytes=100_000, allow_private_addresses=True)
LOOPBACK_ONLY = AddressGuard(exempt=(ipaddress.ip_network("127.0.0.0/8"),))


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


async def fetch(url, polling=LOCAL, guard=None, **kw):
    async with make_client(polling, guard) as client:
        return await fetch_feed(client, url, polling, **kw)


async def test_conditional_get_answers_304_with_no_body(server):
    url = server.add("/f.xml", fixture("fr-monde.xml"))
    first = await fetch(url)
    assert first.status == 200 and first.body == fixture("fr-monde.xml")
    again = await fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body == b""
    headers = server.requests_to("/f.xml")[1]
    assert headers["If-None-Match"] == first.etag
    assert headers["User-Agent"] == USER_AGENT and "coverage-bot" in USER_AGENT


async def test_gzip_bodies_are_decompressed(server):
    url = server.add("/g.xml", fixture("en-bbc.atom.xml"), gzip=True)
    result = await fetch(url)
    assert result.body == fixture("en-bbc.atom.xml")
    assert "gzip" in server.requests_to("/g.xml")[0]["Accept-Encoding"]


@pytest.mark.parametrize("fields, error", [
    ({"status": 404}, "HTTP 404 Not Found"),
    ({"status": 500}, "HTTP 500 Internal Server Error"),
    ({"hang": 3.0}, "timed out after 1s"),
    ({"drip": 0.05}, "timed out after 1s"),
    ({"body": b"x" * 200_000}, "response larger than 100000 bytes"),
    ({"body": b"x" * 200_000, "no_length": True}, "response larger than 100000 bytes"),
])
async def test_faults_are_one_line_errors(server, fields, error):
    fields.setdefault("body", fixture("fr-monde.xml"))
    url = server.add("/bad.xml", **fields)
    with pytest.raises(FetchError) as caught:
        await fetch(url)
    assert str(caught.value) == error


async def test_body_cap_applies_after_decompression(server):
    url = server.add("/bomb.xml", b"<rss>" + b" " * 500_000, gzip=True)
    with pytest.raises(FetchError, match="^response larger than 100000 bytes$"):
        await fetch(url)


async def test_connection_refused():
    with pytest.raises(FetchError, match="^connection refused$"):
        await fetch(refused_url())


async def test_redirects_are_followed_up_to_five(server):
    url = server.add("/feed.xml", fixture("fr-monde.xml"))
    for hop in range(5):
        server.add(f"/r{hop}", redirect=server.url(f"/r{hop + 1}" if hop < 4 else "/feed.xml"))
    result = await fetch(server.url("/r0"))
    assert result.status == 200 and result.url == url


async def test_a_redirect_loop_is_too_many_redirects(server):
    server.add("/a", redirect="/b")
    server.add("/b", redirect="/a")
    with pytest.raises(FetchError, match="^too many redirects$"):
        await fetch(server.url("/a"))


async def test_private_addresses_are_refused_unless_allowed(server):
    url = server.add("/f.xml", fixture("fr-monde.xml"))
    strict = PollingConfig(timeout=1.0)
    with pytest.raises(FetchError, match=r"^refused: private address 127\.0\.0\.1$"):
        await fetch(url, strict)
    with pytest.raises(FetchError, match=r"^refused: private address ::1$"):
        await fetch("http://[::1]:9/feed", strict)
    with pytest.raises(FetchError, match=r"^refused: private address 127\.0\.0\.1$"):
        await fetch("http://localhost:9/feed", strict)  # names are resolved first
    assert server.hits("/f.xml") == 0


async def test_a_redirect_to_a_private_address_is_refused(server):
    server.add("/moved", redirect="http://10.0.0.1/admin")
    with pytest.raises(FetchError, match=r"^refused: private address 10\.0\.0\.1$"):
        await fetch(server.url("/moved"), PollingConfig(timeout=1.0), guard=LOOPBACK_ONLY)


async def test_fetch_and_parse_reads_a_feed_without_storing(server):
    url = server.add("/ru.xml", fixture("ru-koi8r.xml"), content_type="application/rss+xml")
    async with make_client(LOCAL) as client:
        entries = await fetch_and_parse(client, url, "ru", LOCAL)
        assert entries[1].title == "Войска НАТО на Украине: позиция Франции"
        server.add("/page", fixture("page.html"), content_type="text/html")
        with pytest.raises(FetchError, match=r"^not a feed \(text/html\)$"):
            await fetch_and_parse(client, server.url("/page"), "en", LOCAL)


# -- content codings: bounded whatever the layers -------------------------------------


def gzip_of_zeros(size_mib: int) -> bytes:
    """A gzip member of `size_mib` MiB of zeros, built from one compressed MiB repeated:
    seconds to make instead of the minutes compressing it all would take."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, no history
    crc = 0
    zeros = bytes(1 << 20)
    for _ in range(size_mib):
        crc = zlib.crc32(zeros, crc)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + block * size_mib + b"\x03\x00"
            + struct.pack("<II", crc, (size_mib << 20) & 0xFFFFFFFF))


def peak_rss_while(process: psutil.Process, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.002)


async def test_a_stacked_gzip_bomb_is_refused_within_the_cap_without_stalling(server):
    bomb = gzip.compress(gzip_of_zeros(1536), 9)  # 1.5 GiB of zeros in ~4 KB
    assert len(bomb) < 10_000
    url = server.add("/bomb.xml", bomb, headers=(("Content-Encoding", "gzip, gzip"),))
    polling = PollingConfig(timeout=10.0, allow_private_addresses=True)  # max_bytes 10 MB
    process = psutil.Process()
    idle = process.memory_info().rss
    peak, stop = [idle], threading.Event()
    sampler = threading.Thread(target=peak_rss_while, args=(process, stop, peak))
    sampler.start()
    # The loop thread's CPU time whenever it got to run a ticker: what one step of the
    # fetch held the loop for, whatever else the machine was busy with meanwhile.
    stamps = [time.thread_time()]

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.005)
            stamps.append(time.thread_time())

    ticker = asyncio.create_task(tick())
    try:
        with pytest.raises(FetchError, match="^response larger than 10000000 bytes$"):
            await fetch(url, polling)
        stamps.append(time.thread_time())
    finally:
        ticker.cancel()
        stop.set()
        sampler.join()
    assert peak[0] - idle < 100 * 2**20, f"{(peak[0] - idle) / 2**20:.0f} MB above idle"
    stall = max(b - a for a, b in zip(stamps, stamps[1:]))
    assert stall < 0.5, f"event loop held for {stall:.2f}s of CPU at once"


async def test_each_layer_is_capped_and_deep_stacks_are_refused(server):
    body = fixture("fr-monde.xml")
    twice = server.add("/twice.xml", gzip.compress(zlib.compress(body)),
                       headers=(("Content-Encoding", "deflate, gzip"),))
    assert (await fetch(twice)).body == body
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = server.add("/raw.xml", raw.compress(body) + raw.flush(),
                          headers=(("Content-Encoding", "deflate"),))
    assert (await fetch(deflated)).body == body
    thrice = server.add("/thrice.xml", gzip.compress(gzip.compress(gzip.compress(body))),
                        headers=(("Content-Encoding", "gzip, gzip, gzip"),))
    with pytest.raises(FetchError, match="^refused: 3 stacked content encodings$"):
        await fetch(thrice)
    brotli = server.add("/br.xml", body, headers=(("Content-Encoding", "br"),))
    with pytest.raises(FetchError, match="^unsupported content encoding 'br'$"):
        await fetch(brotli)
    corrupt = server.add("/corrupt.xml", b"this is not gzip",
                         headers=(("Content-Encoding", "gzip"),))
    with pytest.raises(FetchError, match="^bad gzip body: "):
        await fetch(corrupt)


# -- the address guard: one resolution, checked, connected to --------------------------


class StubResolver:
    """Answers from a table and counts the questions: no test asks a real resolver."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int):
        self.asked.append(host)
        return [ipaddress.ip_address(a) for a in self.table[host]]


@pytest.mark.parametrize("address", [
    "100.64.0.1", "100.100.100.200", "169.254.169.254", "10.1.2.3", "192.168.0.1",
    "172.16.0.1", "127.0.0.2", "0.0.0.0", "192.0.2.1", "198.18.0.1", "240.0.0.1",
    "224.0.0.1", "::1", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:100.64.0.1",
    "2001:db8::1",
])
async def test_every_address_that_is_not_global_is_refused(address):
    guard = AddressGuard(resolve=StubResolver({"metadata.example": [address]}))
    with pytest.raises(FeedError, match=f"^refused: private address {re.escape(str(ipaddress.ip_address(address)))}$"):
        await guard.check("http://metadata.example/latest")
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(FeedError, match="^refused: private address "):
        await guard.check(f"http://{host}/latest")


async def test_a_public_address_passes_the_guard():
    resolver = StubResolver({"news.example": ["93.184.215.14", "2606:2800:21f:cb07::1"]})
    await AddressGuard(resolve=resolver).check("https://news.example/rss")
    assert resolver.asked == ["news.example"]


async def test_the_connection_goes_to_the_checked_address_with_the_host_header_kept(server):
    server.add("/f.xml", fixture("fr-monde.xml"))
    port = server.base_url.rsplit(":", 1)[1]
    resolver = StubResolver({"news.example": ["127.0.0.1"]})
    guard = AddressGuard(exempt=LOOPBACK_ONLY.exempt, resolve=resolver)
    result = await fetch(f"http://news.example:{port}/f.xml", PollingConfig(timeout=2.0),
                         guard=guard)
    assert result.body == fixture("fr-monde.xml")
    assert resolver.asked == ["news.example"]  # resolved once: nothing left to rebind
    assert server.requests_to("/f.xml")[0]["Host"] == f"news.example:{port}"


async def test_a_name_with_one_private_address_among_public_ones_is_refused(server):
    server.add("/f.xml", fixture("fr-monde.xml"))
    port = server.base_url.rsplit(":", 1)[1]
    resolver = StubResolver({"rebind.example": ["127.0.0.1", "100.64.1.1"]})
    guard = AddressGuard(exempt=LOOPBACK_ONLY.exempt, resolve=resolver)
    with pytest.raises(FetchError, match=r"^refused: private address 100\.64\.1\.1$"):
        await fetch(f"http://rebind.example:{port}/f.xml", PollingConfig(timeout=2.0),
                    guard=guard)
    assert server.hits("/f.xml") == 0


async def test_a_redirect_to_a_name_on_a_cgnat_address_is_refused(server):
    server.add("/moved", redirect="http://metadata.example/computeMetadata/v1/")
    resolver = StubResolver({"metadata.example": ["100.100.100.200"]})
    guard = AddressGuard(exempt=LOOPBACK_ONLY.exempt, resolve=resolver)
    with pytest.raises(FetchError, match=r"^refused: private address 100\.100\.100\.200$"):
        await fetch(server.url("/moved"), PollingConfig(timeout=2.0), guard=guard)
    assert resolver.asked == ["metadata.example"]


async def test_tls_names_the_host_not_the_address():
    """The ClientHello carries the URL's host as server name (SNI) though the socket
    goes to the checked address."""
    hello = bytearray()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)

    def accept_one() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(2)
            with contextlib.suppress(OSError):
                hello.extend(conn.recv(4096))

    thread = threading.Thread(target=accept_one)
    thread.start()
    port = listener.getsockname()[1]
    guard = AddressGuard(exempt=LOOPBACK_ONLY.exempt,
                         resolve=StubResolver({"tls.example": ["127.0.0.1"]}))
    try:
        with pytest.raises(FetchError):
            await fetch(f"https://tls.example:{port}/rss", PollingConfig(timeout=2.0),
                        guard=guard)
    finally:
        thread.join()
        listener.close()
    assert hello[:1] == b"\x16" and b"tls.example" in hello  # a TLS handshake naming the host


# -- what the server asks for ---------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_read_from_a_429_or_503(server, status):
    url = server.add("/busy.xml", status=status, headers=(("Retry-After", "3600"),))
    with pytest.raises(FetchError) as caught:
        await fetch(url)
    assert caught.value.retry_after == 3600.0


def test_retry_after_as_an_http_date():
    now = 1732521600.0  # Mon, 25 Nov 2024 08:00:00 GMT
    assert retry_after_seconds("Mon, 25 Nov 2024 09:00:00 GMT", now) == 3600.0
    assert retry_after_seconds("Mon, 25 Nov 2024 07:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


async def test_a_304_to_a_request_without_validators_is_an_error(server):
    url = server.add("/first.xml", status=304)
    with pytest.raises(FetchError, match="^HTTP 304 Not Modified to a request without validators$"):
        await fetch(url)


async def test_a_guard_that_allows_private_addresses_checks_a_url_without_resolving_it():
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list:
        asked.append(host)
        return [ipaddress.ip_address("10.0.0.1")]

    await AddressGuard(allow_private=True, resolve=resolver).check("http://lemonde.test/rss")
    assert asked == []  # no DNS query leaves the machine for a check that cannot refuse
    with pytest.raises(Exception, match="refused: private address 10.0.0.1"):
        await AddressGuard(allow_private=False, resolve=resolver).check("http://lemonde.test/rss")
    assert asked == ["lemonde.test"]
