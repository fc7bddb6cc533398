"""Pruning: what a feed still lists stays, however long it answers 304; the rest goes
in small transactions that leave the connection to others in between."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from fakes.feeds import FeedServer, append_item, fixture

from bot.config import FeedConfig, PollingConfig, StorageConfig
from bot.feeds.poll import FeedPoller
from bot.feeds.refresh import remember_entries
from bot.model import Entry
from bot.store import entries
from bot.store import feeds as feed_store
from bot.store.db import Database

T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
DAY = 86400.0
POLLING = PollingConfig(interval=0.2, timeout=2.0, max_bytes=50_000, concurrency=4,
                        allow_private_addresses=True)
STORAGE = StorageConfig(retention=30 * DAY)


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def titles(db) -> set[str]:
    return {row[0] for row in await db.fetchall("SELECT title FROM entries")}


async def test_a_feed_answering_304_for_a_month_keeps_its_listed_entries(db):
    old = append_item(fixture("fr-monde.xml"), "Ancienne", "https://a.example/old")
    listed = append_item(fixture("fr-monde.xml"), "Nouvelle", "https://a.example/new")
    new_lists: list[list[str]] = []

    async def poll(when: float):
        """A poll, then what it left waiting for matching, taken as the match stage would."""
        report = await poller.poll_once(when)
        waiting = await entries.pending_entries(db)
        if waiting:
            new_lists.append([stored.entry.title for _, stored in waiting])
            await entries.mark_matched(db, [stored.id for _, stored in waiting])
        return report

    with FeedServer() as server:
        url = server.add("/monde.xml", old)
        await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language="fr")], now=T0)
        async with FeedPoller(db, POLLING, STORAGE) as poller:
            await poll(T0)  # baseline
            server.change("/monde.xml", body=listed)  # "Ancienne" leaves the feed
            await poll(T0 + 3600)
            assert new_lists == [["Nouvelle"]]
            for day in range(1, 36):  # a month and more of "304 Not Modified"
                report = await poll(T0 + day * DAY)
                assert report.outcomes[0].status == "not_modified"
            pruned = await poller.prune(T0 + 35 * DAY + 60)
            kept = await titles(db)
            # The publisher changes the document at last: only what is new is new.
            server.change("/monde.xml", body=append_item(listed, "Demain", "https://a.example/d"))
            await poll(T0 + 36 * DAY)

    assert pruned == 1 and "Ancienne" not in kept  # no longer listed: pruned
    assert "Nouvelle" in kept and len(kept) == fixture("fr-monde.xml").count(b"<item>") + 1
    assert new_lists == [["Nouvelle"], ["Demain"]]  # "Nouvelle" was not alerted again


async def test_listed_entries_of_a_feed_that_stopped_answering_are_pruned(db):
    feed = await feed_store.add_feed(db, "https://gone.example/rss", "fr")
    entry = Entry(key="k", link="https://gone.example/1", title="t", summary="",
                  published=datetime.fromtimestamp(T0, UTC), language="fr")
    await remember_entries(db, feed, [entry], T0, baseline=True)
    await feed_store.record_success(db, feed.id, T0, T0 + 60, etag="x", last_modified=None)
    # No success since: the feed's last word is older than the retention.
    assert await entries.prune_entries(db, T0 + 31 * DAY, 30 * DAY) == 1


def _entries(count: int, start: int = 0) -> list[Entry]:
    published = datetime.fromtimestamp(T0, UTC)
    return [Entry(key=f"k{n}", link=f"https://b.example/{n}", title=f"t{n}", summary="",
                  published=published, language="fr") for n in range(start, start + count)]


async def test_pruning_goes_in_batches_and_lets_other_work_through(db):
    feed = await feed_store.add_feed(db, "https://b.example/rss", "fr")
    await remember_entries(db, feed, _entries(1000), T0, baseline=True)
    # The feed later lists other entries: the first thousand are no longer listed.
    await remember_entries(db, feed, _entries(5, 1000), T0 + DAY, baseline=True)
    # It answers 304 ever since: the five it lists stay.
    await feed_store.record_success(db, feed.id, T0 + 32 * DAY, T0 + 32 * DAY, etag="x",
                                    last_modified=None)
    transactions = 0
    served_between = []
    original = db.transaction

    def counting():
        nonlocal transactions
        transactions += 1
        return original()

    db.transaction = counting  # type: ignore[method-assign]

    async def other_work() -> None:
        # Another loop reading while pruning runs: it must not wait for the whole prune.
        while transactions < 5:
            await asyncio.sleep(0)
        served_between.append(transactions)
        await db.fetchone("SELECT 1")
        served_between.append(transactions)

    reader = asyncio.create_task(other_work())
    pruned = await entries.prune_entries(db, T0 + 32 * DAY, 30 * DAY, batch=100)
    await reader

    assert pruned == 1000
    assert transactions == 11  # ten full batches, and one that finds nothing left
    first, second = served_between
    assert second - first <= 1  # the read went through between two batches
    assert len(await titles(db)) == 5
