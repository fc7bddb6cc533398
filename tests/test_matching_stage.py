"""The match stage: entries pending in the store become stored matches and outbox rows,
once, even across a crash; it takes them from the store itself."""

from __future__ import annotations

import asyncio
import gc
import time
from datetime import UTC, datetime

from bot.config import FeedConfig
from bot.feeds.refresh import remember_entries
from bot.model import Entry, Feed, Topic
from bot.stages.match import MatchStage
from bot.store.chats import ensure_chat, subscribe
from bot.store.db import Database
from bot.store.entries import pending_entries
from bot.store.feeds import get_feed_by_url, sync_config_feeds
from bot.store.topics import add_topic, delete_topic, set_query

NOW = datetime.now(UTC)


def entry(key: str, title: str, summary: str = "") -> Entry:
    return Entry(key=key, link=f"https://lemonde.example/{key}", title=title, summary=summary,
                 published=NOW, language="fr")


async def world(tmp_path) -> tuple[Database, Feed]:
    db = await Database.open(tmp_path / "pipeline.sqlite3")
    await sync_config_feeds(db, [FeedConfig(url="https://lemonde.example/rss", language="fr",
                                            name="Le Monde")])
    feed = await get_feed_by_url(db, "https://lemonde.example/rss")
    await add_topic(db, Topic("oreshnik", "Oreshnik", {"fr": "oreshnik OR orechnik"}))
    await ensure_chat(db, 42, "private", "reader", "en")
    await subscribe(db, 42, "oreshnik")
    return db, feed


async def outbox_rows(db: Database) -> list[tuple]:
    return [tuple(r) for r in await db.fetchall(
        "SELECT o.chat_id, e.key FROM outbox o JOIN matches m ON m.id = o.match_id "
        "JOIN entries e ON e.id = m.entry_id ORDER BY o.id")]


async def test_new_matching_entry_queues_one_alert_per_subscriber(tmp_path):
    db, feed = await world(tmp_path)
    woken = []
    stage = await MatchStage.load(db, queued=lambda: woken.append(1))
    await remember_entries(db, feed, [entry("a", "Le missile Orechnik frappe Dnipro"),
                                      entry("b", "Météo : il pleut")], NOW.timestamp(),
                           baseline=False)
    assert await stage.match_pending() == 1
    assert await outbox_rows(db) == [(42, "a")]
    assert woken == [1]
    assert await pending_entries(db) == []  # the non-matching entry is settled too
    # The same entries stored again (a re-poll) are not new: nothing more is queued.
    await remember_entries(db, feed, [entry("a", "Le missile Orechnik frappe Dnipro")],
                           NOW.timestamp(), baseline=False)
    assert await stage.match_pending() == 0
    assert await outbox_rows(db) == [(42, "a")]
    await db.close()


async def test_entries_stored_but_not_matched_before_a_crash_are_matched_at_start(tmp_path):
    db, feed = await world(tmp_path)
    # The poller committed the entries, then the process died before matching them.
    await remember_entries(db, feed, [entry("c", "Oreshnik : ce que l'on sait")],
                           NOW.timestamp(), baseline=False)
    await db.close()

    db = await Database.open(tmp_path / "pipeline.sqlite3")
    stage = await MatchStage.load(db)
    assert await stage.match_pending() == 1
    assert await outbox_rows(db) == [(42, "c")]
    assert await stage.match_pending() == 0
    await db.close()


async def test_baseline_entries_never_wait_for_matching(tmp_path):
    db, feed = await world(tmp_path)
    await remember_entries(db, feed, [entry("d", "Oreshnik")], NOW.timestamp(), baseline=True)
    stage = await MatchStage.load(db)
    assert await stage.match_pending() == 0
    assert await outbox_rows(db) == []
    await db.close()


async def test_topic_edits_reach_the_live_index(tmp_path):
    db, feed = await world(tmp_path)
    stage = await MatchStage.load(db)
    assert stage.index.match("Storm Shadow tiré", "", "fr") == []

    await add_topic(db, Topic("strikes", "Strikes", {"fr": '"storm shadow" OR scalp'}))
    await stage.topics_changed()
    assert [m.topic for m in stage.index.match("Storm Shadow tiré", "", "fr")] == ["strikes"]

    await set_query(db, "strikes", "fr", "atacms")
    await stage.topics_changed()
    assert stage.index.match("Storm Shadow tiré", "", "fr") == []

    await delete_topic(db, "oreshnik")
    await stage.topics_changed()
    assert stage.index.topics == ("strikes",)
    await db.close()


async def test_a_link_first_seen_in_an_en_feed_matches_its_fr_copy_for_an_fr_only_topic(
        tmp_path):
    db, fr_feed = await world(tmp_path)  # topic oreshnik has only a fr query
    await sync_config_feeds(db, [FeedConfig(url="https://bbc.example/rss", language="en",
                                            name="BBC")])
    en_feed = await get_feed_by_url(db, "https://bbc.example/rss")
    stage = await MatchStage.load(db)
    link = "https://reuters.example/oreshnik"
    en_copy = Entry(key="en-1", link=link, title="Oreshnik missile strikes Dnipro", summary="",
                    published=NOW, language="en")
    fr_copy = Entry(key="fr-1", link=link, title="Le missile Orechnik frappe Dnipro", summary="",
                    published=NOW, language="fr")
    await remember_entries(db, en_feed, [en_copy], NOW.timestamp(), baseline=False)
    assert await stage.match_pending() == 0  # no en query
    await remember_entries(db, fr_feed, [fr_copy], NOW.timestamp(), baseline=False)
    assert await stage.match_pending() == 1
    assert await outbox_rows(db) == [(42, "fr-1")]
    # and a third copy of the link does not send the chat a second message
    await add_topic(db, Topic("dnipro", "Dnipro", {"fr": "dnipro"}))
    await subscribe(db, 42, "dnipro")
    await stage.topics_changed()
    other = Entry(key="fr-2", link=link, title="Orechnik : frappe sur Dnipro", summary="",
                  published=NOW, language="fr")
    await sync_config_feeds(db, [FeedConfig(url="https://lefigaro.example/rss", language="fr")])
    figaro = await get_feed_by_url(db, "https://lefigaro.example/rss")
    await remember_entries(db, figaro, [other], NOW.timestamp(), baseline=False)
    await stage.match_pending()
    sends = await db.fetchall("SELECT COUNT(*) FROM outbox WHERE chat_id = 42 AND kind = 'send'")
    assert sends[0][0] == 1
    await db.close()


async def test_an_entry_whose_recording_fails_stays_pending_is_retried_and_logged_once(
        tmp_path, caplog):
    db, feed = await world(tmp_path)
    stage = await MatchStage.load(db)
    stage.retry_base = 0.05
    stop = asyncio.Event()
    await db.execute("CREATE TRIGGER refuse BEFORE INSERT ON matches "
                     "BEGIN SELECT RAISE(ABORT, 'injected: disk I/O error'); END")
    await remember_entries(db, feed, [entry("p", "Oreshnik : nouvelle frappe"),
                                      entry("q", "Météo")], NOW.timestamp(), baseline=False)
    assert await stage.match_pending() == 0
    retrying = asyncio.create_task(stage.run(stop))
    await asyncio.sleep(0.4)  # a few retries fail too
    assert await outbox_rows(db) == []
    assert [e.entry.key for _, e in await pending_entries(db)] == ["p"]  # the other is done
    await db.execute("DROP TRIGGER refuse")
    for _ in range(600):  # a hang guard: the retry comes within a second when not busy
        if await outbox_rows(db):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await retrying
    assert await outbox_rows(db) == [(42, "p")]
    assert caplog.text.count("they stay pending") == 1
    assert await pending_entries(db) == []
    await db.close()


async def test_the_stage_takes_what_the_poller_stores_when_woken(tmp_path):
    db, feed = await world(tmp_path)
    pending = asyncio.Event()
    woken = asyncio.Event()
    stage = await MatchStage.load(db, pending=pending, queued=woken.set)
    stop = asyncio.Event()
    running = asyncio.create_task(stage.run(stop))
    try:
        await asyncio.sleep(0.1)  # its first look found nothing; now it sleeps
        await remember_entries(db, feed, [entry("w", "Orechnik en Ukraine")], NOW.timestamp(),
                               baseline=False)
        pending.set()  # what the poller does after storing entries that wait
        await asyncio.wait_for(woken.wait(), 10)
        assert await outbox_rows(db) == [(42, "w")]
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    await db.close()


async def pending_count(db: Database) -> int:
    return (await db.fetchone("SELECT COUNT(*) FROM entries WHERE pending_match = 1"))[0]


class LoopSteps:
    """The CPU time of the longest single step the event loop ran (a callback, a task
    step), measured on the loop's own thread, so other processes' load does not count."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.worst_step = ""
        self.steps = 0

    def __enter__(self) -> LoopSteps:
        self._run = run = asyncio.events.Handle._run
        meter = self

        def timed(handle):
            started = time.thread_time()
            try:
                return run(handle)
            finally:
                meter.steps += 1
                took = time.thread_time() - started
                if took > meter.worst:
                    meter.worst, meter.worst_step = took, repr(handle)

        asyncio.events.Handle._run = timed
        return self

    def __exit__(self, *exc_info) -> None:
        asyncio.events.Handle._run = self._run


async def test_a_backlog_of_66000_pending_entries_never_holds_the_loop_and_stop_is_prompt(
        tmp_path):
    db, feed = await world(tmp_path)
    backlog = [entry(f"k{n}", f"Orechnik {n}" if n % 500 == 0 else f"Météo du jour {n}",
                     "Un résumé assez court. " * 4) for n in range(66_000)]
    for start in range(0, len(backlog), 11_000):
        await remember_entries(db, feed, backlog[start:start + 11_000], NOW.timestamp(),
                               baseline=False)
    assert await pending_count(db) == 66_000
    del backlog  # the service holds none of it in memory (nor its garbage collection)
    gc.collect()
    stage = await MatchStage.load(db)
    stop = asyncio.Event()
    ticks = 0

    async def ticker() -> None:  # stands for Telegram polling and replies
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    with LoopSteps() as steps:
        beside = asyncio.create_task(ticker())
        running = asyncio.create_task(stage.run(stop))
        while await pending_count(db) > 50_000:
            await asyncio.sleep(0.05)
        stop.set()  # SIGTERM mid-backlog
        stopped_at = time.monotonic()
        await asyncio.wait_for(running, 10)
        took = time.monotonic() - stopped_at
        await beside
    left = await pending_count(db)
    assert 0 < left <= 50_000  # the rest waits in the store for the next start
    assert took < 5.0  # within a batch, not the backlog
    assert ticks > 20 and steps.steps > 1000
    assert steps.worst < 0.05, (
        f"one loop step took {steps.worst * 1000:.0f} ms of CPU: {steps.worst_step}")

    stage = await MatchStage.load(db)  # the next start finishes the work
    queued = await stage.match_pending()
    assert await pending_count(db) == 0
    matches = (await db.fetchone("SELECT COUNT(*) FROM matches"))[0]
    assert matches == 66_000 // 500 and queued > 0  # alike titles: one story, edits
    await db.close()
