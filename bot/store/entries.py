"""The entries aggregate: remember what each feed published, say what is new, prune the old."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from bot.matching.backtest import StoredText
from bot.matching.search import SearchableEntry
from bot.model import Entry, Feed, StoredEntry
from bot.store.db import Database
from bot.store.feeds import count_entries_seen
from bot.store.outbox_texts import queue_text

_CHUNK = 500  # keeps `IN (...)` well under SQLite's variable limit


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


async def remember_entries(db: Database, feed: Feed, entries: Iterable[Entry], now: float,
                           baseline: bool, retention: float = 30 * 86400.0, *,
                           max_new: int | None = None, admins: Sequence[int] = ()
                           ) -> list[StoredEntry]:
    """Store a poll's entries in one transaction; return those that should go on to matching.

    New means: first time this feed shows this key (a link another feed stored is new
    for this one too), published within `retention`, and not the feed's baseline poll
    (whose entries are only recorded as seen). Known entries get
    `last_seen_at = now` so pruning keeps what feeds still show.

    At most `max_new` go on (the newest): the rest are recorded as seen, and `admins`
    are told in the same transaction, once a day per feed.
    """
    batch: dict[str, Entry] = {}
    for entry in entries:
        batch.setdefault(entry.key, entry)
    if not batch:
        return []
    keys = list(batch)
    oldest = now - retention

    async with db.transaction() as conn:
        # Known: this feed showed the key, or the same entry under another key (its
        # link, or a linkless item's text, with a guid that changes at every poll).
        known: set[str] = set()
        seen_as: set[str] = set()
        for column, values in (("key", keys), ("alert_key", [e.alert_key for e in batch.values()])):
            for part in _chunks(values):
                cursor = await conn.execute(
                    f"SELECT key, alert_key FROM entries WHERE feed_id = ? AND {column} IN "
                    f"({','.join('?' * len(part))})", (feed.id, *part))
                for key, alert_key in await cursor.fetchall():
                    known.add(key)
                    seen_as.add(alert_key)
        fresh = [batch[k] for k in keys if k not in known and batch[k].alert_key not in seen_as]

        if known:
            await conn.executemany(
                "UPDATE entries SET last_seen_at = ? WHERE feed_id = ? AND key = ?",
                [(now, feed.id, k) for k in known])
        if not fresh:
            return []
        # A link another feed already stored is new here all the same: this feed's
        # language query decides whether it matches, and the outbox keeps one message
        # per link and chat.
        wanted: list[Entry] = []
        if not baseline:
            links: set[str] = set()
            for entry in fresh:
                if entry.alert_key in links or entry.published.timestamp() < oldest:
                    continue
                links.add(entry.alert_key)  # the same link twice in one poll is one
                wanted.append(entry)
        if max_new is not None and len(wanted) > max_new:
            await _tell_capped(conn, feed, len(wanted), max_new, admins, now)
            wanted = sorted(wanted, key=lambda e: e.published, reverse=True)[:max_new]
        waiting = {e.key for e in wanted}
        await conn.executemany(
            "INSERT INTO entries (feed_id, key, alert_key, link, title, summary, language, "
            "published_at, first_seen_at, last_seen_at, pending_match) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(feed.id, e.key, e.alert_key, e.link, e.title, e.summary, e.language,
              e.published.timestamp(), now, now, int(e.key in waiting)) for e in fresh])
        await count_entries_seen(conn, feed.id, len(fresh), now)

        ids: dict[str, int] = {}
        wanted_keys = [e.key for e in wanted]
        for part in _chunks(wanted_keys):
            cursor = await conn.execute(
                f"SELECT id, key FROM entries WHERE feed_id = ? AND key IN "
                f"({','.join('?' * len(part))})", (feed.id, *part))
            ids.update((row[1], row[0]) for row in await cursor.fetchall())
    return [StoredEntry(id=ids[e.key], feed_id=feed.id, entry=e) for e in wanted]


async def _tell_capped(conn, feed: Feed, count: int, kept: int, admins: Sequence[int],
                       now: float) -> None:
    day = int(now // 86400)
    for admin in admins:
        await queue_text(conn, "notice", admin, f"feed-capped:{feed.id}:{day}", now,
                         notice={"key": "delivery.feed_capped",
                                 "values": {"feed": feed.name or feed.url, "url": feed.url,
                                            "count": count, "kept": kept}})


# Entries deleted per transaction when pruning: each deletion cascades to matches,
# digest items, story entries and outbox links, so a batch is a few milliseconds of
# the one connection every loop shares, and other work gets it between batches.
PRUNE_BATCH = 200

# Entries of a feed past the retention that are still listed in it. A feed answering
# 304 shows the document of its last 200 unchanged: the entries that document listed
# (those its feed saw last, at the feed's latest last_seen_at) are still listed, as
# long as the feed still answers. Pruning them would make the next 200 find them new.
_PRUNABLE = """
SELECT e.id FROM entries e JOIN feeds f ON f.id = e.feed_id
WHERE e.last_seen_at < :cutoff
  AND NOT (COALESCE(f.last_success_at, 0) >= :cutoff
           AND e.last_seen_at = (SELECT MAX(x.last_seen_at) FROM entries x
                                 WHERE x.feed_id = e.feed_id))
ORDER BY e.last_seen_at LIMIT :batch
"""


async def prune_entries(db: Database, now: float, retention: float,
                        batch: int = PRUNE_BATCH) -> int:
    """Delete entries no feed has shown within `retention`; their matches cascade.

    Entries still listed by a feed that answers 304 are kept. Deletes `batch`
    entries per transaction and yields to the event loop between transactions,
    so pruning a large backlog never holds the connection for long."""
    params = {"cutoff": now - retention, "batch": batch}
    total = 0
    while True:
        async with db.transaction() as conn:
            cursor = await conn.execute(
                f"DELETE FROM entries WHERE id IN ({_PRUNABLE})", params)
            removed = max(cursor.rowcount, 0)
        total += removed
        if removed < batch:
            return total
        await asyncio.sleep(0)  # the lock's waiters go first: they queued before us


def _stored(row) -> StoredEntry:
    return StoredEntry(id=row["id"], feed_id=row["feed_id"], entry=Entry(
        key=row["key"], link=row["link"], title=row["title"], summary=row["summary"],
        published=datetime.fromtimestamp(row["published_at"], UTC), language=row["language"]))


async def pending_entries(db: Database, limit: int = 500,
                          after: int = 0) -> list[tuple[Feed, StoredEntry]]:
    """New entries whose matching a crash or an error interrupted, oldest first (ids above
    `after`)."""
    rows = await db.fetchall(
        "SELECT e.id, e.feed_id, e.key, e.link, e.title, e.summary, e.language, "
        "e.published_at, f.url, f.language AS feed_language, f.name, f.interval_s "
        "FROM entries e JOIN feeds f ON f.id = e.feed_id "
        "WHERE e.pending_match = 1 AND e.id > ? ORDER BY e.id LIMIT ?", (after, limit))
    return [(Feed(id=row["feed_id"], url=row["url"], language=row["feed_language"],
                  name=row["name"], interval=row["interval_s"]), _stored(row)) for row in rows]


async def mark_matched(db: Database, entry_ids: Iterable[int]) -> None:
    """Entries that matched no topic are done with matching."""
    ids = list(entry_ids)
    if not ids:
        return
    async with db.transaction() as conn:
        await conn.executemany("UPDATE entries SET pending_match = 0 WHERE id = ?",
                               [(i,) for i in ids])


async def get_entry(db: Database, entry_id: int) -> StoredEntry | None:
    row = await db.fetchone(
        "SELECT id, feed_id, key, link, title, summary, language, published_at "
        "FROM entries WHERE id = ?", (entry_id,))
    return None if row is None else _stored(row)


async def texts_since(db: Database, since: float) -> list[StoredText]:
    """Every stored entry published at or after `since`, newest first: what a backtest searches."""
    rows = await db.fetchall(
        "SELECT language, title, summary FROM entries WHERE published_at >= ? "
        "ORDER BY published_at DESC, id DESC", (since,))
    return [StoredText(row["language"], row["title"], row["summary"]) for row in rows]


async def searchable_since(db: Database, since: float) -> list[SearchableEntry]:
    """Every stored entry published at or after `since`, newest first, with its outlet:
    what /search looks through."""
    rows = await db.fetchall(
        "SELECT e.id, e.language, e.title, e.summary, e.link, e.published_at, "
        "COALESCE(NULLIF(f.name, ''), f.url) AS outlet FROM entries e "
        "JOIN feeds f ON f.id = e.feed_id WHERE e.published_at >= ? "
        "ORDER BY e.published_at DESC, e.id DESC", (since,))
    return [SearchableEntry(row["id"], row["language"], row["title"], row["summary"],
                            row["link"], row["outlet"], row["published_at"]) for row in rows]
