"""The outbox: one alert per (item, chat), ever; claimed oldest first; survives crashes."""

import pytest

from bot.store import chats, outbox
from tests.fakes.alert_world import add_entry, add_feed, add_subscriber, add_topic_named, open_db


@pytest.fixture
async def db(tmp_path):
    db = await open_db(tmp_path)
    await add_topic_named(db, "troops", "Western troops in Ukraine")
    await add_topic_named(db, "drones")
    await add_subscriber(db, 1, ["troops"], language="en")
    await add_subscriber(db, 2, ["troops", "drones"], language="ru")
    await add_subscriber(db, -100, ["troops"], language="fr", thread_id=7)
    yield db
    await db.close()


async def _entry(db, link="https://lemonde.fr/a", feed_url="https://lemonde.fr/rss"):
    row = await db.fetchone("SELECT id FROM feeds WHERE url = ?", (feed_url,))
    feed_id = row[0] if row else await add_feed(db, feed_url, "fr", "Le Monde")
    return await add_entry(db, feed_id, link, "Des troupes <b>&", "Résumé", "fr")


async def _states(db):
    rows = await db.fetchall("SELECT chat_id, state FROM outbox ORDER BY id")
    return [(r[0], r[1]) for r in rows]


async def test_a_match_queues_one_alert_per_subscribed_chat_however_many_topics_matched(db):
    entry = await _entry(db)
    queued = await outbox.record_matches(db, entry, "https://lemonde.fr/a",
                                         [("troops", ["troupes"]), ("drones", ["drone"])], 10.0)
    assert queued == 3  # chat 2 follows both topics: one message naming both
    assert len(await db.fetchall("SELECT * FROM matches")) == 2
    assert await outbox.queue_length(db) == 3


async def test_repolls_and_the_same_link_in_another_feed_queue_nothing_more(db):
    entry = await _entry(db)
    await outbox.record_matches(db, entry, "https://lemonde.fr/a", [("troops", ["t"])], 10.0)
    again = await outbox.record_matches(db, entry, "https://lemonde.fr/a", [("troops", ["t"])], 11.0)
    other = await _entry(db, feed_url="https://rfi.fr/rss")
    elsewhere = await outbox.record_matches(db, other, "https://lemonde.fr/a",
                                            [("troops", ["t"])], 12.0)
    assert (again, elsewhere) == (0, 0)
    assert await outbox.queue_length(db) == 3


async def test_inactive_chats_and_unknown_topics_get_nothing(db):
    await chats.deactivate_chat(db, 1, "blocked")
    entry = await _entry(db)
    queued = await outbox.record_matches(db, entry, "k", [("troops", []), ("gone", [])], 1.0)
    assert queued == 2


async def test_claim_returns_everything_needed_to_render_oldest_first(db):
    e1 = await _entry(db, "https://lemonde.fr/1")
    e2 = await _entry(db, "https://lemonde.fr/2")
    await outbox.record_matches(db, e1, "k1", [("troops", ["troupes", "ukraine"])], 1.0)
    await outbox.record_matches(db, e2, "k2", [("troops", ["troupes"])], 2.0)
    items = await outbox.claim_due(db, now=5.0, limit=10)
    assert [i.entry_id for i in items] == [e1, e1, e1, e2, e2, e2]
    group = next(i for i in items if i.chat_id == -100)
    assert (group.thread_id, group.chat_type, group.chat_language) == (7, "supergroup", "fr")
    first = items[0]
    assert first.title == "Des troupes <b>&" and first.feed_name == "Le Monde"
    assert first.topic_title == "Western troops in Ukraine"
    assert first.terms == ("troupes", "ukraine") and first.entry_language == "fr"
    assert set(s for _, s in await _states(db)) == {"sending"}
    assert await outbox.claim_due(db, now=5.0, limit=10) == []


async def test_claim_skips_busy_chats_and_limits_per_chat(db):
    for n in range(3):
        await outbox.record_matches(db, await _entry(db, f"https://x/{n}"), f"k{n}",
                                    [("troops", [])], float(n))
    items = await outbox.claim_due(db, 10.0, 100, per_chat=2, skip_chats=[2])
    assert sorted({i.chat_id for i in items}) == [-100, 1]
    assert len(items) == 4


async def test_a_chat_waiting_to_retry_is_not_overtaken_by_its_later_alerts(db):
    for n in range(2):
        await outbox.record_matches(db, await _entry(db, f"https://x/{n}"), f"k{n}",
                                    [("troops", [])], 0.0)
    first = [i for i in await outbox.claim_due(db, 1.0, 100) if i.chat_id == 1]
    await outbox.release(db, [i.id for i in first[1:]])
    await outbox.mark_retry(db, first[0].id, "timeout", next_at=100.0)
    assert [i for i in await outbox.claim_due(db, 2.0, 100) if i.chat_id == 1] == []
    later = await outbox.claim_due(db, 100.0, 100)
    assert [i.id for i in later if i.chat_id == 1] == [i.id for i in first]


async def test_crash_while_sending_requeues_only_unsent_rows(db):
    await outbox.record_matches(db, await _entry(db), "k", [("troops", [])], 0.0)
    a, b, c = await outbox.claim_due(db, 1.0, 10)
    await outbox.mark_sent(db, a.id, 99, 2.0)
    assert await outbox.requeue_inflight(db) == 2
    again = await outbox.claim_due(db, 3.0, 10)
    assert [i.id for i in again] == [b.id, c.id]
    assert await outbox.alerts_sent_since(db, 1.5) == 1


async def test_deactivating_a_chat_kills_its_queued_alerts(db):
    await outbox.record_matches(db, await _entry(db), "k", [("troops", []), ("drones", [])], 0.0)
    assert await chats.deactivate_chat(db, 2, "Forbidden: bot was blocked by the user") == 1
    row = await db.fetchone("SELECT active, deactivated_reason FROM chats WHERE id = 2")
    assert row[0] == 0 and "blocked" in row[1]
    assert await outbox.queue_length(db) == 2


async def test_pruned_entries_bury_their_pending_alerts_and_prune_forgets_old_rows(db):
    entry = await _entry(db)
    await outbox.record_matches(db, entry, "k", [("troops", [])], 0.0)
    (first,) = [i for i in await outbox.claim_due(db, 1.0, 1)]
    await outbox.mark_dead(db, first.id, "bad request")
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM entries")
    assert await outbox.claim_due(db, 1.0, 10) == []
    assert await outbox.queue_length(db) == 0
    assert await outbox.prune_outbox(db, before=1.0) == 3


async def test_a_sent_alert_is_kept_while_its_entry_lives_so_it_is_never_sent_again(db):
    entry = await _entry(db)
    await outbox.record_matches(db, entry, "k", [("drones", [])], 0.0)
    (item,) = await outbox.claim_due(db, 1.0, 10)
    await outbox.mark_sent(db, item.id, 99, 1.0)
    assert await outbox.prune_outbox(db, before=1e12) == 0  # old, but its entry is still seen
    assert await outbox.record_matches(db, entry, "k", [("drones", [])], 2.0) == 0
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM entries")  # the retention pruned the entry
    assert await outbox.prune_outbox(db, before=1e12) == 1
