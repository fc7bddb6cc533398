"""The outbox at scale: a claim costs what it claims, chats are served round-robin, and
a chat's backlog past its cap is folded into one announced notice, never dropped."""

import time

import pytest

from bot.store import outbox
from tests.fakes.alert_world import add_entry, add_feed, add_subscriber, add_topic_named, open_db

FLOODED = 1


@pytest.fixture
async def db(tmp_path):
    db = await open_db(tmp_path)
    await add_topic_named(db, "troops", "Western troops in Ukraine")
    await add_subscriber(db, FLOODED, ["troops"])
    for chat in (2, 3, 4):
        await add_subscriber(db, chat, ["troops"])
    yield db
    await db.close()


async def _flood(db, chat_id: int, rows: int, first_id: int = 0) -> None:
    """`rows` queued alerts for one chat, written straight into the tables."""
    row = await db.fetchone("SELECT id FROM feeds")
    feed = row[0] if row else await add_feed(db, "https://flood.example/rss", "en", "Flood")
    entry = await add_entry(db, feed, f"https://flood.example/{chat_id}/{first_id}", "Troops",
                            "", "en")
    topic = (await db.fetchone("SELECT id FROM topics WHERE name = 'troops'"))[0]
    async with db.transaction() as conn:
        match = (await conn.execute(
            "INSERT INTO matches (entry_id, topic_id, terms, matched_at) VALUES (?, ?, '[]', 0)",
            (entry, topic))).lastrowid
        await conn.executemany(
            "INSERT INTO outbox (match_id, alert_key, topic_id, chat_id, state, "
            "next_attempt_at, created_at, kind) VALUES (?, ?, ?, ?, 'pending', 0, 0, 'send')",
            [(match, f"flood:{chat_id}:{first_id + n}", topic, chat_id) for n in range(rows)])


async def _plan(db, sql: str, params: dict) -> str:
    rows = await db.fetchall("EXPLAIN QUERY PLAN " + sql, params)
    return "\n".join(row[3] for row in rows)


async def test_a_claim_at_100000_queued_rows_in_one_chat_takes_milliseconds(db):
    await _flood(db, FLOODED, 100_000)
    await _flood(db, 2, 3)
    plan = await _plan(db, outbox._CLAIM, {"after": 0, "chats": 10, "per_chat": 20})
    assert plan.count("INDEX outbox_queue") == 3, plan  # the chats, then each chat's head
    assert "SCAN o" not in plan and "SCAN w" not in plan and "TEMP B-TREE" not in plan, plan
    started = time.perf_counter()
    items = await outbox.claim_due(db, 10.0, 40, per_chat=20)
    took = time.perf_counter() - started
    assert [i.chat_id for i in items].count(FLOODED) == 20
    assert [i.chat_id for i in items].count(2) == 3
    assert took < 0.25, f"claim took {took * 1000:.0f} ms"  # milliseconds here; generous


async def test_chats_are_served_round_robin_after_the_last_one(db):
    for chat in (FLOODED, 2, 3, 4):
        await _flood(db, chat, 5)
    first = await outbox.claim_due(db, 10.0, 2, per_chat=1)
    assert [i.chat_id for i in first] == [FLOODED, 2]
    second = await outbox.claim_due(db, 10.0, 2, per_chat=1, after=2)
    assert [i.chat_id for i in second] == [3, 4]
    third = await outbox.claim_due(db, 10.0, 3, per_chat=1, after=4)  # round the end
    assert sorted(i.chat_id for i in third) == [FLOODED, 2, 3]


async def test_a_backlog_past_the_cap_folds_its_oldest_into_one_counted_notice(db):
    await _flood(db, FLOODED, 130)
    await _flood(db, 2, 10)
    [folded] = await outbox.fold_backlogs(db, cap=100, now=5.0)
    assert (folded.chat_id, folded.topic, folded.count) == (FLOODED, "troops", 31)
    waiting = await db.fetchall(
        "SELECT kind, notice FROM outbox WHERE chat_id = ? AND state = 'pending' ORDER BY id",
        (FLOODED,))
    assert len(waiting) == 100  # the 99 newest alerts and the notice
    assert waiting[-1]["kind"] == "notice" and '"count": 31' in waiting[-1]["notice"]
    dead = await db.fetchone("SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND state = 'dead'",
                             (FLOODED,))
    assert dead[0] == 31
    await _flood(db, FLOODED, 20, first_id=200)  # more arrive: the same notice counts up
    await outbox.fold_backlogs(db, cap=100, now=6.0)
    notices = await db.fetchall(
        "SELECT json_extract(notice, '$.values.count') FROM outbox WHERE kind = 'notice'")
    assert [row[0] for row in notices] == [52]
    assert await outbox.fold_backlogs(db, cap=100, now=7.0) == []
