"""The entries aggregate: apply what a poll decided, hand out what waits for matching, prune."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from bot.model import Entry, Feed, FeedUpdate, SearchableEntry, StoredEntry, StoredText
from bot.store.db import Database
from bot.store.feeds import count_entries_seen, write_success
from bot.store.outbox_texts import queue_text
from bot.store.websub import note_hub

_CHUNK = 500  # keeps `IN (...)` well under SQLite's variable limit


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


async def known_entries(db: Database, feed_id: int,
                        entries: Sequence[Entry]) -> tuple[set[str], set[str]]:
    """(stored keys, their alert keys) of this feed's entries that are `entries`: the same
    key, or the same entry under another key (its link, or a linkless item's text, with
    a guid that changes at every poll)."""
    known: set[str] = set()
    seen_as: set[str] = set()
    for column, values in (("key", [e.key for e in entries]),
                           ("alert_key", [e.alert_key for e in entries])):
        for part in _chunks(values):
            rows = await db.fetchall(
                f"SELECT key, alert_key FROM entries WHERE feed_id = ? AND {column} IN "
                f"({','.join('?' * len(part))})", (feed_id, *part))
            for key, alert_key in rows:
                known.add(key)
                seen_as.add(alert_key)
    return known, seen_as


async def apply_feed_update(db: Database, update: FeedUpdate) -> None:
    """Write what one poll decided, in one transaction: its new entries (those waiting
    for matching flagged `pending_match`), `last_seen_at` of the entries still listed
    (so pruning keeps what feeds still show), and the feed's poll state."""
    feed_id, now = update.feed.id, update.now
    async with db.transaction() as conn:
        if update.seen:
            await conn.executemany(
                "UPDATE entries SET last_seen_at = ? WHERE feed_id = ? AND key = ?",
                [(now, feed_id, key) for key in update.seen])
        if update.new:
            # OR IGNORE: a key stored meanwhile (another path to the same feed) stays as it is.
            cursor = await conn.executemany(
                "INSERT OR IGNORE INTO entries (feed_id, key, alert_key, link, title, summary, "
                "language, published_at, first_seen_at, last_seen_at, pending_match) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(feed_id, e.key, e.alert_key, e.link, e.title, e.summary, e.language,
                  e.published.timestamp(), now, now, int(e.key in update.pending))
                 for e in update.new])
            await count_entries_seen(conn, feed_id, max(cursor.rowcount, 0), now)
        if update.state is not None:
            await write_success(conn, feed_id, update.state)
        if update.capped:
            await _tell_capped(conn, update, now)
        if update.hub is not None:
            hub = update.hub
            await note_hub(conn, feed_id, hub.hub, hub.topic, hub.secret, hub.token, now)


async def _tell_capped(conn, update: FeedUpdate, now: float) -> None:
    """The admins hear of a capped feed in the poll's own transaction, once a day."""
    feed, day = update.feed, int(now // 86400)
    for admin in update.tell:
        await queue_text(conn, "notice", admin, f"feed-capped:{feed.id}:{day}", now,
                         notice={"key": "delivery.feed_capped",
                                 "values": {"feed": feed.name or feed.url, "url": feed.url,
                                            "count": update.capped,
                                            "kept": len(update.pending)}})


async def stored_entries(db: Database, feed_id: int, keys: Sequence[str]) -> list[StoredEntry]:
    """This feed's stored entries of `keys`, in that order (those stored)."""
    found: dict[str, StoredEntry] = {}
    for part in _chunks(list(keys)):
        rows = await db.fetchall(
            "SELECT id, feed_id, key, link, title, summary, language, published_at FROM entries "
            f"WHERE feed_id = ? AND key IN ({','.join('?' * len(part))})", (feed_id, *part))
        found.update((row["key"], _stored(row)) for row in rows)
    return [found[key] for key in keys if key in found]


# Entries deleted per transaction when pruning: each deletion cascades to matches,
# digest items, story entries and outbox links, so a batch is a few milliseconds of
# the one connection every loop shares, and other work gets it between batches.
PRUNE_BATCH = 100

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
