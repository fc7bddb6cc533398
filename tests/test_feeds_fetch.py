"""Fetching over real HTTP on 127.0.0.1: validators, gzip, caps, redirects, refusals."""

from __future__ import annotations

import ipaddress

import pytest
from fakes.feeds import FeedServer, fixture, refused_url

from bot import USER_AGENT
from bot.config import PollingConfig
from bot.feeds.fetch import AddressGuard, FetchError, fetch_feed, make_client
from bot.feeds.poll import fetch_and_parse

LOCAL = PollingConfig(timeout=1.0, max_bytes=100_000, allow_private_addresses=True)
LOOPBACK_ONLY = AddressGuard(exempt=(ipaddress.ip_network("127.0.0.0/8"),))


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


async def fetch(url, polling=LOCAL, **kw):
    async with make_client(polling) as client:
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
