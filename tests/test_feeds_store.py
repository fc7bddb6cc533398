"""The feeds and entries aggregates on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import FeedConfig
from bot.feeds.refresh import remember_entries
from bot.model import Entry
from bot.store import entries as entry_store
from bot.store import feeds as feed_store
from bot.store.db import Database

T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
DAY = 86400.0


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


def entry(key: str, link: str = "", when: float = T0) -> Entry:
    return Entry(key=key, link=link, title=f"title {key}", summary="", language="en",
                 published=datetime.fromtimestamp(when, UTC))


async def test_config_feeds_are_added_and_updated_by_url_and_chat_feeds_kept(db):
    await feed_store.add_feed(db, "https://chat.example/rss", "ru", "From chat", now=T0)
    await feed_store.sync_config_feeds(db, [FeedConfig("https://a.example/rss", "fr", "A")], T0)
    await feed_store.sync_config_feeds(
        db, [FeedConfig("https://a.example/rss", "en", "A (en)", interval=600.0)], T0)
    feeds = await feed_store.list_feeds(db)
    assert [(f.url, f.language, f.name, f.interval) for f in feeds] == [
        ("https://chat.example/rss", "ru", "From chat", None),
        ("https://a.example/rss", "en", "A (en)", 600.0)]


async def test_adding_a_followed_url_again_is_refused_and_delete_removes_it(db):
    feed = await feed_store.add_feed(db, "https://a.example/rss", "fr", now=T0)
    assert await feed_store.get_feed_by_url(db, feed.url) == feed
    with pytest.raises(feed_store.FeedExists):
        await feed_store.add_feed(db, feed.url, "en", now=T0)
    assert await feed_store.delete_feed(db, feed.url) is True
    assert await feed_store.delete_feed(db, feed.url) is False
    assert await feed_store.list_feeds(db) == []


async def test_due_feeds_are_those_whose_time_has_come(db):
    a = await feed_store.add_feed(db, "https://a.example/rss", "fr", now=T0)
    b = await feed_store.add_feed(db, "https://b.example/rss", "en", now=T0)
    await feed_store.record_success(db, a.id, T0, T0 + 300, etag='"x"', last_modified=None)
    due = await feed_store.due_feeds(db, T0 + 1)
    assert [d.feed for d in due] == [b] and due[0].baseline_done is False
    due = await feed_store.due_feeds(db, T0 + 301)
    assert [d.feed for d in due] == [b, a]
    assert due[1].etag == '"x"' and due[1].baseline_done is True
    assert await feed_store.next_due_at(db, exclude=[b.id]) == T0 + 300


async def test_an_entry_is_new_once_per_feed_key(db):
    feed = await feed_store.add_feed(db, "https://a.example/rss", "en", now=T0)
    base = await remember_entries(db, feed, [entry("1")], T0, baseline=True)
    assert base == []
    new = await remember_entries(db, feed, [entry("1"), entry("2"), entry("2")],
                                             T0 + 60, baseline=False)
    assert [s.entry.key for s in new] == ["2"]
    again = await remember_entries(db, feed, [entry("1"), entry("2")], T0 + 120,
                                               baseline=False)
    assert again == []
    row = await db.fetchone("SELECT last_seen_at FROM entries WHERE key = '1'")
    assert row[0] == T0 + 120


async def test_same_link_from_two_feeds_is_stored_and_new_for_each(db):
    a = await feed_store.add_feed(db, "https://a.example/rss", "en", now=T0)
    b = await feed_store.add_feed(db, "https://b.example/rss", "en", now=T0)
    link = "https://news.example/story"
    first = await remember_entries(db, a, [entry("a1", link)], T0, baseline=False)
    second = await remember_entries(db, b, [entry("b1", link)], T0, baseline=False)
    assert len(first) == len(second) == 1  # each matched by its own feed's query
    count = await db.fetchone("SELECT COUNT(*) FROM entries WHERE alert_key = ?", (link,))
    assert count[0] == 2


async def test_entries_published_before_the_retention_are_not_new(db):
    feed = await feed_store.add_feed(db, "https://a.example/rss", "en", now=T0)
    new = await remember_entries(
        db, feed, [entry("old", when=T0 - 40 * DAY), entry("recent", when=T0 - DAY)],
        T0, baseline=False, retention=30 * DAY)
    assert [s.entry.key for s in new] == ["recent"]


async def test_pruning_deletes_unseen_entries_and_their_matches(db):
    feed = await feed_store.add_feed(db, "https://a.example/rss", "en", now=T0)
    [gone] = await remember_entries(db, feed, [entry("gone")], T0, baseline=False)
    await remember_entries(db, feed, [entry("kept")], T0 + 20 * DAY, baseline=False)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO topics (name, title, created_at, updated_at) "
                           "VALUES ('t', 'T', 0, 0)")
        await conn.execute("INSERT INTO matches (entry_id, topic_id, terms, matched_at) "
                           "SELECT ?, id, '[]', 0 FROM topics", (gone.id,))
    assert await entry_store.prune_entries(db, T0 + 31 * DAY, 30 * DAY) == 1
    keys = [row[0] for row in await db.fetchall("SELECT key FROM entries")]
    assert keys == ["kept"]
    assert (await db.fetchone("SELECT COUNT(*) FROM matches"))[0] == 0
