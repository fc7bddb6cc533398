"""Digest mode in the ledger: matches wait for the digest instead of the outbox, each
listed in exactly one digest, and the notice ledger refuses a second row per key."""

import pytest

from bot.store import digests, outbox
from tests.fakes.alert_world import add_entry, add_feed, add_subscriber, add_topic_named, open_db


@pytest.fixture
async def db(tmp_path):
    db = await open_db(tmp_path)
    await add_topic_named(db, "troops", "Western troops in Ukraine")
    await add_subscriber(db, 1, ["troops"], language="en")
    await add_subscriber(db, 2, ["troops"], language="fr")
    yield db
    await db.close()


async def _match(db, link: str, now: float) -> int:
    row = await db.fetchone("SELECT id FROM feeds")
    feed_id = row[0] if row else await add_feed(db, "https://lemonde.fr/rss", "fr", "Le Monde")
    entry = await add_entry(db, feed_id, link, f"Titre {link}", "Résumé", "fr")
    return await outbox.record_matches(db, entry, link, [("troops", ["troupes"])], now)


async def test_a_chat_in_digest_mode_gets_digest_items_not_alerts(db):
    await digests.set_digest(db, 2, "hourly", now=5.0)
    assert await _match(db, "https://lemonde.fr/a", 10.0) == 1  # chat 1 only
    rows = await db.fetchall("SELECT chat_id FROM outbox")
    assert [r[0] for r in rows] == [1]
    waiting = await digests.waiting_matches(db, 2, before=11.0)
    assert [(w.topic, w.title, w.outlet) for w in waiting] == [
        ("troops", "Titre https://lemonde.fr/a", "Le Monde")]
    assert await digests.waiting_matches(db, 1, before=11.0) == []


async def test_switching_back_to_off_resumes_instant_alerts(db):
    await digests.set_digest(db, 2, "daily 08:00", now=5.0)
    await _match(db, "https://lemonde.fr/a", 10.0)
    await digests.set_digest(db, 2, "off", now=20.0)
    await _match(db, "https://lemonde.fr/b", 30.0)
    rows = await db.fetchall("SELECT chat_id, alert_key FROM outbox ORDER BY id")
    assert [(r[0], r[1]) for r in rows][-1] == (2, "https://lemonde.fr/b")
    # what waited is not lost: the chat still has it, to be sent at once
    [chat] = await digests.digest_chats(db)
    assert (chat.chat_id, chat.digest, chat.waiting) == (2, "off", 1)


async def test_a_notice_is_written_once_per_key_and_takes_its_items(db):
    await digests.set_digest(db, 2, "hourly", now=5.0)
    await _match(db, "https://lemonde.fr/a", 10.0)
    await _match(db, "https://lemonde.fr/b", 20.0)
    waiting = await digests.waiting_matches(db, 2, before=15.0)
    assert len(waiting) == 1  # the later one belongs to the next period
    ids = [w.item_id for w in waiting]
    assert await digests.write_notice(db, "digest", 2, "3600", ["<b>x</b>"], 30.0, ids)
    assert not await digests.write_notice(db, "digest", 2, "3600", ["again"], 31.0, ids)
    assert len(await digests.waiting_matches(db, 2, before=100.0)) == 1
    # its message waits in the one outbox, written in the same transaction, once
    [queued] = [i for i in await outbox.claim_due(db, 40.0, 10) if i.kind != "send"]
    assert (queued.kind, queued.chat_id, queued.body) == ("digest", 2, "<b>x</b>")


async def test_settings_default_to_instant_alerts_and_surges_on(db):
    assert await digests.settings(db, 1) == digests.ChatNotices("off", True)
    await digests.set_surges(db, 1, False)
    await digests.set_digest(db, 1, "every 5m")
    assert await digests.settings(db, 1) == digests.ChatNotices("every 5m", False)


async def test_a_group_that_becomes_a_supergroup_keeps_its_digest(db):
    from bot.store.chats import migrate_chat

    await add_subscriber(db, -5, ["troops"], language="fr", type="group")
    await digests.set_digest(db, -5, "hourly", now=5.0)
    await _match(db, "https://lemonde.fr/a", 10.0)
    await digests.write_notice(db, "surge", -5, "1:2026-01-01", ["x"], 11.0)
    await migrate_chat(db, -5, -1005)
    assert (await digests.settings(db, -1005)).digest == "hourly"
    assert len(await digests.waiting_matches(db, -1005, before=100.0)) == 1
    claimed = await outbox.claim_due(db, 100.0, 10)
    assert [(i.kind, i.chat_id) for i in claimed if i.kind != "send"] == [("surge", -1005)]


async def test_a_forum_threads_digest_and_surge_go_to_that_thread(db):
    await add_subscriber(db, -7, ["troops"], language="fr", type="supergroup", thread_id=42)
    await digests.set_digest(db, -7, "hourly", now=5.0)
    await _match(db, "https://lemonde.fr/a", 10.0)
    [waiting] = await digests.waiting_matches(db, -7, before=100.0)
    assert waiting.thread_id == 42
    [chat] = [c for c in await digests.surge_chats(db, 1) if c.chat_id == -7]
    assert chat.thread_id == 42
