"""An entry dated 1970-01-01, year 1 or far ahead is dated when it was first seen, as an
undated one is: it is new, so it is handed on to be matched and alerted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import FeedConfig, PollingConfig
from bot.feeds.parse import parse_entries
from bot.feeds.poll import FeedPoller
from bot.store import feeds as feed_store
from bot.store.db import Database
from bot.store.entries import pending_entries
from tests.fakes.feeds import FeedServer

T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
POLLING = PollingConfig(interval=1.0, timeout=2.0, max_bytes=100_000,
                        allow_private_addresses=True)
DATES = {
    "epoch": "<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>",
    "year-one": "<dc:date>0001-01-01T00:00:00Z</dc:date>",
    "year-one-rfc822": "<pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate>",
    "far-future": "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>",
    "none": "",
}


def rss(items: dict[str, str]) -> bytes:
    body = "".join(f"<item><title>Oreshnik {name}</title><link>https://news.example/{name}</link>"
                   f"{date}</item>" for name, date in items.items())
    return ('<?xml version="1.0"?><rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
            f"{body}</channel></rss>").encode()


@pytest.mark.parametrize("name", sorted(DATES))
def test_an_implausible_date_is_the_time_first_seen(name):
    now = datetime.fromtimestamp(T0, UTC)
    [entry] = parse_entries(rss({name: DATES[name]}), "application/rss+xml", "en", now)
    assert entry.published == now


def test_a_real_date_from_2002_is_kept():
    now = datetime.fromtimestamp(T0, UTC)
    dated = {"old": "<pubDate>Wed, 02 Oct 2002 13:00:00 GMT</pubDate>"}
    [entry] = parse_entries(rss(dated), "application/rss+xml", "en", now)
    assert entry.published == datetime(2002, 10, 2, 13, tzinfo=UTC)


async def test_new_entries_with_zero_dates_wait_for_matching(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    with FeedServer() as server:
        url = server.add("/feed.xml", rss({"baseline": ""}))
        await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language="en")], now=T0)
        async with FeedPoller(db, POLLING) as poller:
            await poller.poll_once(T0)  # the baseline: recorded, not alerted
            server.change("/feed.xml", body=rss({"baseline": "", **DATES}))
            await poller.poll_once(T0 + 60)
    rows = await db.fetchall("SELECT link, published_at, pending_match FROM entries "
                             "WHERE link NOT LIKE '%baseline'")
    handed_on = [stored for _, stored in await pending_entries(db)]
    await db.close()
    assert sorted(e.entry.title for e in handed_on) == sorted(f"Oreshnik {n}" for n in DATES)
    assert {row["published_at"] for row in rows} == {T0 + 60}
    assert all(row["pending_match"] for row in rows)
