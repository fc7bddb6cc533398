"""Faster and wider sources through the real poller, a local feed server and a real
SQLite file: adaptive intervals, what a feed asks, Telegram channel previews, and
WebSub (a hub found in a feed, subscribed to through a local hub, a pushed body taken
as a poll's body, polling kept as a backstop)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from fakes.feeds import FeedServer
from fakes.websub_hub import FakeHub

from bot.config import FeedConfig, PollingConfig
from bot.feeds import websub_subscriber
from bot.feeds.poll import FeedPoller
from bot.feeds.websub_receiver import receiver_app, start_receiver
from bot.store import feeds as feed_store
from bot.store import websub as websub_store
from bot.store.db import Database
from bot.store.entries import pending_entries

T0 = datetime(2026, 12, 7, 12, tzinfo=UTC).timestamp()
POLLING = PollingConfig(interval=300, min_interval=60, max_interval=7200, adaptive=True,
                        timeout=2.0, allow_private_addresses=True)
PAGES = Path(__file__).parent / "fixtures" / "telegram"


def rss(items: list[tuple[str, float]], head: str = "") -> bytes:
    rows = "".join(
        f"<item><title>{title}</title><link>https://wire.example/{title.replace(' ', '-')}</link>"
        f"<pubDate>{format_datetime(datetime.fromtimestamp(when, UTC), usegmt=True)}</pubDate>"
        f"</item>" for title, when in items)
    return (f'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel><title>Wire</title>{head}{rows}</channel></rss>").encode()


def every(seconds: float, count: int, last: float, name: str = "item") -> list[tuple[str, float]]:
    return [(f"{name} {n}", last - n * seconds) for n in range(count)]


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def follow(db, url: str, language: str = "en"):
    await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language=language)], now=T0)
    return await feed_store.get_feed_by_url(db, url)


async def next_poll(db, feed_id: int) -> tuple[float, float | None]:
    row = await db.fetchone("SELECT next_poll_at, poll_interval_s FROM feeds WHERE id = ?",
                            (feed_id,))
    return row[0], row[1]


async def test_a_busy_wire_is_polled_at_its_publishing_gap_and_a_quiet_blog_at_the_maximum(
        db, server):
    wire = server.add("/wire.xml", rss(every(120, 25, T0 - 60, "wire")))
    blog = server.add("/blog.xml", rss(every(9 * 86400, 10, T0 - 86400, "blog")))
    async with FeedPoller(db, POLLING, pending=asyncio.Event()) as poller:
        await follow(db, wire)
        await follow(db, blog)
        await poller.poll_once(T0)  # the first poll: no history yet, polling.interval
        for url in (wire, blog):
            feed = await feed_store.get_feed_by_url(db, url)
            assert (await next_poll(db, feed.id))[1] == 300
        await poller.poll_once(T0 + 400)
        wire_at, wire_interval = await next_poll(db, (await feed_store.get_feed_by_url(db, wire)).id)
        blog_at, blog_interval = await next_poll(db, (await feed_store.get_feed_by_url(db, blog)).id)
    assert wire_interval == 120 and T0 + 400 + 108 <= wire_at <= T0 + 400 + 132
    assert blog_interval == 7200 and blog_at >= T0 + 400 + 6480


async def test_a_configured_interval_fixes_it_and_adaptive_off_keeps_the_default(db, server):
    url = server.add("/wire.xml", rss(every(120, 25, T0 - 60)))
    await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language="en",
                                                       interval=900.0)], now=T0)
    async with FeedPoller(db, POLLING, pending=asyncio.Event()) as poller:
        await poller.poll_once(T0)
        await poller.poll_once(T0 + 1000)
        feed = await feed_store.get_feed_by_url(db, url)
        assert (await next_poll(db, feed.id))[1] == 900
    fixed = replace(POLLING, adaptive=False)
    async with FeedPoller(db, fixed, pending=asyncio.Event()) as poller:
        assert await poller.interval_of(replace(feed, interval=None), T0 + 2000) == 300


async def test_a_feed_is_not_polled_sooner_than_its_max_age_or_ttl(db, server):
    cached = server.add("/cached.xml", rss(every(120, 25, T0 - 60)),
                        headers=(("Cache-Control", "public, max-age=1800"),))
    ttl = server.add("/ttl.xml", rss(every(120, 25, T0 - 60), head="<ttl>45</ttl>"))
    async with FeedPoller(db, POLLING, pending=asyncio.Event()) as poller:
        for url in (cached, ttl):
            await follow(db, url)
        await poller.poll_once(T0)
        report = await poller.poll_once(T0 + 1000)
    assert report.polled == 0  # neither is due, though both publish every 2 minutes
    at_cached, _ = await next_poll(db, (await feed_store.get_feed_by_url(db, cached)).id)
    at_ttl, _ = await next_poll(db, (await feed_store.get_feed_by_url(db, ttl)).id)
    assert at_cached >= T0 + 1800 and at_ttl >= T0 + 45 * 60


async def test_a_telegram_channel_is_read_from_its_preview_and_repolls_repeat_nothing(
        db, server):
    page = (PAGES / "channel_preview.html").read_bytes()
    server.add("/s/severnews", page, content_type="text/html; charset=utf-8")
    polling = replace(POLLING, telegram_preview_url=server.url("/s/"))
    async with FeedPoller(db, polling, pending=asyncio.Event()) as poller:
        feed = await follow(db, "https://t.me/s/severnews", "ru")
        first = await poller.poll_once(T0)
        assert first.outcome(feed.url).parsed == 3 and await pending_entries(db) == []
        post = page.replace(b'data-post="severnews/4101"', b'data-post="severnews/4106"', 1)
        server.change("/s/severnews", body=post)
        second = await poller.poll_once(T0 + 400)
        assert second.outcome(feed.url).new == 1
        [(_, stored)] = await pending_entries(db)
        assert stored.entry.link == "https://t.me/severnews/4106"
        assert stored.entry.title.startswith("Орешник размещён в Белоруссии")
        third = await poller.poll_once(T0 + 800)
    assert third.outcome(feed.url).status == "not_modified"  # ETag: nothing re-parsed
    assert len(await pending_entries(db)) == 1


async def test_a_channel_whose_preview_was_disabled_fails_with_that_reason(db, server):
    server.add("/s/closednews", (PAGES / "preview_disabled.html").read_bytes(),
               content_type="text/html")
    polling = replace(POLLING, telegram_preview_url=server.url("/s/"))
    async with FeedPoller(db, polling, pending=asyncio.Event()) as poller:
        feed = await follow(db, "https://t.me/s/closednews", "ru")
        report = await poller.poll_once(T0)
    assert report.outcome(feed.url).status == "failed"
    assert "no public web preview" in report.outcome(feed.url).error


async def test_websub_hub_found_subscribed_pushed_and_polled_as_a_backstop(db, server):
    hub = await FakeHub(lease_seconds=86400).start()
    pushed = every(120, 25, T0 - 60, "wire")
    head = f'<atom:link rel="hub" href="{hub.url}"/><atom:link rel="self" href="https://wire.example/rss"/>'
    url = server.add("/wire.xml", rss(pushed, head))
    try:
        async with FeedPoller(db, POLLING, pending=asyncio.Event(), websub=True) as poller:
            feed = await follow(db, url)
            await poller.poll_once(T0)
            found = await websub_store.subscription_of(db, feed.id)
            assert (found.state, found.hub, found.topic) == ("discovered", hub.url,
                                                             "https://wire.example/rss")
            runner = await start_receiver(receiver_app(db, poller.take_pushed, 1_000_000),
                                          "127.0.0.1:0")
            public = f"http://127.0.0.1:{runner.addresses[0][1]}/websub/"
            try:
                async with httpx.AsyncClient() as client:
                    assert await websub_subscriber.maintain(db, client, public, 5,
                                                            now=time.time()) == 1
                deadline = time.monotonic() + 10  # a hang guard: the hub verifies
                while not await websub_store.is_pushed(db, feed.id):
                    assert time.monotonic() < deadline, "the hub never verified"
                    await asyncio.sleep(0.02)
                assert await poller.interval_of(feed, T0 + 400) == 7200  # backstop only

                newer = [("breaking", T0 + 30), *pushed]
                callback = hub.requests[0]["hub.callback"]
                response = await hub.push(callback, rss(newer, head))
                assert response.status_code == 202
                [(_, stored)] = await pending_entries(db)
                assert stored.entry.title == "breaking"
                assert poller.pending.is_set()
                bad = await hub.push(callback, rss([("forged", T0 + 40), *newer], head),
                                     secret="guess")
                assert bad.status_code == 403

                server.change("/wire.xml", body=rss(newer, head))
                backstop = await poller.poll_once(T0 + 8000)
                assert backstop.outcome(url).new == 0  # the push already brought it
                assert [s.entry.title for _, s in await pending_entries(db)] == ["breaking"]
            finally:
                await runner.cleanup()
    finally:
        await hub.stop()


async def test_without_websub_a_hub_is_not_noted(db, server):
    url = server.add("/wire.xml", rss(every(120, 5, T0), '<atom:link rel="hub" href="https://hub/"/>'))
    async with FeedPoller(db, POLLING, pending=asyncio.Event()) as poller:
        feed = await follow(db, url)
        await poller.poll_once(T0)
    assert await websub_store.subscription_of(db, feed.id) is None
