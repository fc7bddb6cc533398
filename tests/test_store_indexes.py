"""Every foreign key with a delete action, and every query run per entry or per send,
finds its rows by index: EXPLAIN QUERY PLAN on what the store really runs."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime

from bot.feeds.refresh import remember_entries
from bot.model import Entry, Topic
from bot.store import digests, entries, outbox, stories
from bot.store.chats import ensure_chat, subscribe
from bot.store.db import Database
from bot.store.feeds import add_feed, record_success
from bot.store.topics import add_topic
from bot.translation.cache import TranslationCache, prune_translations

# Tables that grow with the news (per entry, per match, per send): a full scan of
# one of them costs more every day the service runs.
GROWING = {"entries", "matches", "outbox", "digest_items", "notices", "story_entries",
           "story_messages", "translation_cache"}
T0 = datetime(2025, 3, 1, tzinfo=UTC).timestamp()
_TABLE_NAMES = re.compile(
    r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)(?:\s+(?:AS\s+)?(?!WHERE|ON|SET|JOIN|LEFT|USING|"
    r"ORDER|GROUP|LIMIT|VALUES|SELECT|WHEN|AND|OR|UNION|INNER|CROSS|NATURAL)(\w+))?", re.I)


def full_scans(conn: sqlite3.Connection, sql: str) -> list[str]:
    """The growing tables a statement reads whole (by any index or none)."""
    aliases = {}
    for table, alias in _TABLE_NAMES.findall(sql):
        aliases[table] = table
        if alias:
            aliases[alias] = table
    scans = []
    for row in conn.execute("EXPLAIN QUERY PLAN " + sql):
        found = re.match(r"SCAN (\w+)", row[3])
        if found and aliases.get(found.group(1), found.group(1)) in GROWING:
            scans.append(row[3])
    return scans


def test_every_foreign_key_with_a_delete_action_has_an_index(tmp_path):
    import asyncio

    path = tmp_path / "bot.sqlite3"

    async def create() -> None:
        db = await Database.open(path)
        await db.close()

    asyncio.run(create())
    conn = sqlite3.connect(path)
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    missing = []
    for table in tables:
        leading = set()
        info = list(conn.execute(f"PRAGMA table_info({table})"))
        rowid = [col[1] for col in info if col[5] and col[2].upper() == "INTEGER"]
        if len(rowid) == 1 and sum(1 for col in info if col[5]) == 1:
            leading.add((rowid[0],))  # INTEGER PRIMARY KEY: the table's own b-tree key
        for index in conn.execute(f"PRAGMA index_list({table})"):
            columns = [col[2] for col in conn.execute(f"PRAGMA index_info({index[1]})")]
            leading.update(tuple(columns[:n]) for n in range(1, len(columns) + 1))
        keys: dict[int, list] = {}
        for fk in conn.execute(f"PRAGMA foreign_key_list({table})"):
            keys.setdefault(fk[0], []).append(fk)
        for parts in keys.values():
            if parts[0][6] == "NO ACTION":  # on_delete
                continue
            columns = tuple(part[3] for part in sorted(parts, key=lambda p: p[1]))
            if columns not in leading:
                missing.append(f"{table}{columns} -> {parts[0][2]} ON DELETE {parts[0][6]}")
    conn.close()
    assert missing == []


async def test_per_entry_and_per_send_queries_read_no_growing_table_whole(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    statements: list[str] = []
    await db.conn.set_trace_callback(statements.append)
    try:
        await exercise_the_store(db)
    finally:
        await db.conn.set_trace_callback(None)
        await db.close()

    conn = sqlite3.connect(tmp_path / "bot.sqlite3")
    scanning = {}
    for sql in dict.fromkeys(statements):
        if re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT|WITH)\b", sql, re.I):
            scans = full_scans(conn, sql)
            if scans:
                scanning[" ".join(sql.split())[:200]] = scans
    conn.close()
    assert len(statements) > 50  # the scenario ran the store's queries
    assert scanning == {}


async def exercise_the_store(db: Database) -> None:
    """One entry's whole life: polled, matched, clustered, queued, sent, replied to,
    put in a digest, translated, pruned."""
    feed = await add_feed(db, "https://news.example/rss", "fr", "Le Monde")
    feed_id = feed.id
    await add_topic(db, Topic("ukraine", "Ukraine", {"fr": "ukraine"}))
    await ensure_chat(db, 1, "private", "instant", "en")
    await ensure_chat(db, 2, "private", "digest", "en")
    await subscribe(db, 1, "ukraine")
    await subscribe(db, 2, "ukraine")
    await digests.set_digest(db, 2, "hourly", T0)

    def entry(n: int) -> Entry:
        return Entry(key=f"k{n}", link=f"https://news.example/{n}", title=f"Ukraine {n}",
                     summary="", published=datetime.fromtimestamp(T0, UTC), language="fr")

    await remember_entries(db, feed, [entry(0)], T0, baseline=True)
    new = await remember_entries(db, feed, [entry(0), entry(1), entry(2)], T0 + 60,
                                 baseline=False)
    await record_success(db, feed_id, T0 + 60, T0 + 600, etag=None, last_modified=None)
    await entries.pending_entries(db)
    first, second = new
    recorded = await stories.record_entry(db, first.id, first.entry.alert_key,
                                          [("ukraine", ["ukraine"])], T0 + 61)
    await stories.record_entry(db, second.id, second.entry.alert_key,
                               [("ukraine", ["ukraine"])], T0 + 62, story_id=recorded.story_id)
    await entries.mark_matched(db, [first.id])
    for item in await outbox.claim_due(db, T0 + 70, 10):
        await outbox.mark_sent(db, item.id, 500 + item.id, T0 + 71)
    await stories.story_of_message(db, 1, 501)
    await stories.story_of_entry(db, first.id)
    await stories.story_entries(db, recorded.story_id)
    await stories.story_message(db, recorded.story_id, 1)
    await stories.entry_topics_for_chat(db, first.id, 1)
    waiting = await digests.waiting_matches(db, 2, T0 + 3600)
    await digests.write_notice(db, "digest", 2, "p1", ["<b>digest</b>"], T0 + 3600,
                               [item.item_id for item in waiting])
    for item in await outbox.claim_due(db, T0 + 3601, 10):  # the digest's parts are outbox rows
        await outbox.mark_sent(db, item.id, 900 + item.id, T0 + 3602)
    cache = TranslationCache(db, "libre")
    await cache.store("fr", "en", {"Ukraine 1": "Ukraine 1 (en)"}, T0)
    await cache.get("fr", "en", "Ukraine 1")
    later = T0 + 40 * 86400
    await entries.prune_entries(db, later, 30 * 86400)
    await outbox.prune_outbox(db, later - 30 * 86400)
    await digests.prune_notices(db, later - 30 * 86400)
    await prune_translations(db, later - 30 * 86400)
