"""An entry is the same entry when its link is, or, without a link, when its text is:
a guid that changes at every poll adds nothing (a local feed server, a real SQLite
file, the FeedPoller)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes.feeds import FeedServer

from bot.config import FeedConfig, PollingConfig
from bot.feeds.poll import FeedPoller
from bot.store import feeds as feed_store
from bot.store.db import Database
from bot.store.entries import pending_entries

T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
POLLING = PollingConfig(interval=0.2, timeout=1.0, max_bytes=20_000, concurrency=4,
                        allow_private_addresses=True)


def rss(*items: str) -> bytes:
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            "<title>Rotor</title><link>https://rotor.example/</link>"
            + "".join(items) + "</channel></rss>").encode()


def item(title: str, guid: str, link: str | None = None, summary: str = "") -> str:
    link_xml = f"<link>{link}</link>" if link else ""
    return (f"<item><title>{title}</title>{link_xml}<guid isPermaLink='false'>{guid}</guid>"
            f"<description>{summary or title}</description>"
            "<pubDate>Mon, 25 Nov 2024 11:00:00 GMT</pubDate></item>")


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
async def polled(db):
    """A feed server, a poller and the titles it leaves waiting for matching."""

    async def on_feed_health(feed, report) -> None:
        pass

    async def new() -> list[str]:
        return [stored.entry.title for _, stored in await pending_entries(db)]

    with FeedServer() as server:
        async with FeedPoller(db, POLLING, on_feed_health=on_feed_health) as poller:
            yield server, poller, new


async def poll_with_rotating_guids(db, server, poller, polls: int, **fields) -> None:
    url = server.add("/rotor.xml", rss(item("Old news", "old-1", "https://rotor.example/old")))
    await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language="en")], now=T0)
    await poller.poll_once(T0)  # baseline: recorded as seen
    for n in range(polls):
        server.change("/rotor.xml", body=rss(item(guid=f"rotating-{n}", **fields)))
        await poller.poll_once(T0 + 10 * (n + 1))


async def test_a_guid_rotating_at_every_poll_with_the_same_link_is_new_once(db, polled):
    server, poller, new = polled
    await poll_with_rotating_guids(db, server, poller, 5, title="Wildfire near Marseille",
                                   link="https://rotor.example/a/wildfire?utm_source=rss")
    assert await new() == ["Wildfire near Marseille"]
    rows = await db.fetchall("SELECT COUNT(*) FROM entries WHERE title = 'Wildfire near Marseille'")
    assert rows[0][0] == 1


async def test_a_linkless_item_with_a_rotating_guid_is_recognised_by_its_text(db, polled):
    server, poller, new = polled
    await poll_with_rotating_guids(db, server, poller, 5, title="Volcano  erupts in Iceland",
                                   summary="Lava reached the road to Grindavik.")
    assert await new() == ["Volcano erupts in Iceland"]


async def test_a_linkless_item_with_new_text_is_new(db, polled):
    server, poller, new = polled
    url = server.add("/rotor.xml", rss(item("Old news", "old-1")))
    await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language="en")], now=T0)
    await poller.poll_once(T0)
    server.change("/rotor.xml", body=rss(item("Old news", "old-2"), item("Fresh news", "new-1")))
    await poller.poll_once(T0 + 10)
    assert await new() == ["Fresh news"]
