"""One poll of one feed brings at most `polling.max_new_entries` new entries to matching: a
feed that suddenly lists thousands of items cannot flood every chat; the rest are recorded
as seen, and the admins are told once a day (a notice in the outbox, in the poll's own
transaction)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from fakes.feeds import FeedServer, append_item, fixture

from bot.config import FeedConfig
from bot.feeds.poll import FeedPoller
from bot.store import feeds as feed_store
from bot.store.db import Database
from bot.store.entries import pending_entries
from tests.test_feeds_poll import POLLING, T0

ADMINS = (1001, 1002)


async def test_a_flooding_feed_is_capped_recorded_as_seen_and_admins_told_once(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    polling = replace(POLLING, max_new_entries=10)
    try:
        with FeedServer() as server:
            body = fixture("fr-monde.xml")
            url = server.add("/monde.xml", body)
            await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language="fr")], now=T0)
            async with FeedPoller(db, polling, pending=asyncio.Event(),
                                  admins=ADMINS) as poller:
                await poller.poll_once(T0)  # the baseline
                for n in range(30):
                    body = append_item(body, f"Article {n}", f"https://x.example/{n}")
                server.change("/monde.xml", body=body)
                report = await poller.poll_once(T0 + 10)
                assert report.new_entries == 10
                assert len(await pending_entries(db)) == 10
                for n in range(30, 60):  # the same day, another flood: not told again
                    body = append_item(body, f"Article {n}", f"https://x.example/{n}")
                server.change("/monde.xml", body=body)
                await poller.poll_once(T0 + 20)
                assert len(await pending_entries(db)) == 20
        stored = await db.fetchone("SELECT COUNT(*) FROM entries")
        assert stored[0] == 3 + 60  # every entry recorded, the rest as seen
        told = await db.fetchall(
            "SELECT chat_id, json_extract(notice, '$.values.count'), "
            "json_extract(notice, '$.values.kept') FROM outbox "
            "WHERE kind = 'notice' ORDER BY chat_id")
        assert [tuple(row) for row in told] == [(1001, 30, 10), (1002, 30, 10)]
    finally:
        await db.close()
