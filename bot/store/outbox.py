"""The alert ledger in SQLite: one row per (item, chat) and kind, claimed, sent, retried or dead.

A row is written in the same transaction as its match and marked 'sending'
before it is sent, so a crash loses nothing and repeats at most the send that
was in flight.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.store.db import Database
from bot.store.stories import message_sent, record_entry


@dataclass(frozen=True)
class OutboxItem:
    """One claimed alert with everything needed to render and send it."""

    id: int
    alert_key: str
    chat_id: int
    chat_type: str
    chat_language: str
    thread_id: int | None
    topic_id: int
    topic_title: str
    entry_id: int
    title: str
    summary: str
    link: str
    entry_language: str
    feed_name: str
    terms: tuple[str, ...]
    attempts: int
    created_at: float
    kind: str = "send"  # send | edit | reply (see bot/alerts/coverage.py)
    story_id: int | None = None
    published_at: float = 0.0
    # The feed gave no publication time (or one in the future): parsing then sets it to
    # the instant the entry was first seen, so the alert says "seen" instead.
    seen_only: bool = False
    chat_timezone: str | None = None  # None: bot.default_timezone
    chat_quiet: str | None = None  # the chat's quiet hours ("22:00-07:00"), None: none
    topics: tuple[tuple[int, str], ...] = ()  # (id, title) of every topic the alert names


async def record_matches(db: Database, entry_id: int, alert_key: str,
                         matches: Sequence[tuple[str, Iterable[str]]], now: float) -> int:
    """Store an entry's matches and queue one message per active chat following any of
    them, the entry starting a story of its own; rows queued (see stories.record_entry).

    Re-polls and re-published entries never queue a second message.
    """
    recorded = await record_entry(db, entry_id, alert_key, matches, now)
    return recorded.queued


_CLAIM = """
SELECT o.id, o.alert_key, o.chat_id, o.thread_id, o.topic_id, o.attempts, o.created_at,
       o.kind, o.story_id,
       c.type AS chat_type, c.language AS chat_language, c.timezone AS chat_timezone, c.quiet AS chat_quiet,
       COALESCE(tt.title, t.title, '') AS topic_title,
       m.terms, e.id AS entry_id, e.title, e.summary, e.link, e.language AS entry_language,
       e.published_at, e.published_at >= e.first_seen_at AS seen_only,
       COALESCE(NULLIF(f.name, ''), f.url) AS feed_name
FROM outbox o
JOIN chats c ON c.id = o.chat_id
LEFT JOIN topics t ON t.id = o.topic_id
LEFT JOIN topic_titles tt ON tt.topic_id = t.id AND tt.language = c.language
LEFT JOIN matches m ON m.id = o.match_id
-- a send names its match; an edit or a reply the entry that caused it
JOIN entries e ON e.id = COALESCE(m.entry_id, o.entry_id)
JOIN feeds f ON f.id = e.feed_id
WHERE o.state = 'pending' AND o.next_attempt_at <= :now
  AND o.chat_id NOT IN (SELECT value FROM json_each(:skip))
  AND (c.type = 'console') = :console
  -- a chat's alerts go out in order: nothing overtakes an earlier one waiting to retry
  AND NOT EXISTS (SELECT 1 FROM outbox w WHERE w.chat_id = o.chat_id AND w.state = 'pending'
                  AND w.id < o.id AND w.next_attempt_at > :now)
ORDER BY o.id
LIMIT :scan
"""


async def claim_due(db: Database, now: float, limit: int, *, per_chat: int = 1_000_000,
                    skip_chats: Iterable[int] = (), console: bool = False) -> list[OutboxItem]:
    """Mark up to `limit` due rows 'sending' and return them oldest first.

    Only the console's virtual chats with `console`, only Telegram chats without:
    `run --console` on a database that also serves Telegram leaves their alerts queued.

    At most `per_chat` rows per chat, none for `skip_chats` (chats whose earlier
    alerts are still being sent). Rows whose entry, topic or chat is gone are
    marked dead instead.
    """
    items: list[OutboxItem] = []
    async with db.transaction() as conn:
        await _bury_orphans(conn)
        rows = await (await conn.execute(_CLAIM, {
            "now": now, "skip": json.dumps(sorted(set(skip_chats))), "console": console,
            "scan": limit if per_chat >= limit else limit * 4})).fetchall()
        taken: dict[int, int] = {}
        for row in rows:
            if len(items) >= limit:
                break
            if taken.get(row["chat_id"], 0) >= per_chat:
                continue
            taken[row["chat_id"]] = taken.get(row["chat_id"], 0) + 1
            items.append(OutboxItem(
                id=row["id"], alert_key=row["alert_key"], chat_id=row["chat_id"],
                chat_type=row["chat_type"], chat_language=row["chat_language"],
                thread_id=row["thread_id"], topic_id=row["topic_id"],
                topic_title=row["topic_title"], entry_id=row["entry_id"], title=row["title"],
                summary=row["summary"], link=row["link"], entry_language=row["entry_language"],
                feed_name=row["feed_name"], terms=tuple(json.loads(row["terms"] or "[]")),
                attempts=row["attempts"] + 1, created_at=row["created_at"],
                kind=row["kind"], story_id=row["story_id"],
                published_at=row["published_at"], seen_only=bool(row["seen_only"]),
                chat_timezone=row["chat_timezone"], chat_quiet=row["chat_quiet"]))
        if items:
            await conn.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1 "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([item.id for item in items]),))
    return items


async def _bury_orphans(conn) -> None:
    """Rows whose match was pruned, topic deleted or chat deactivated can never be sent;
    nor an edit or a reply whose entry was pruned."""
    await conn.execute(
        "UPDATE outbox SET state = 'dead', last_error = 'entry, topic or chat no longer there' "
        "WHERE state = 'pending' AND ("
        "(kind = 'send' AND (match_id IS NULL "
        "  OR NOT EXISTS (SELECT 1 FROM topics t WHERE t.id = outbox.topic_id))) "
        "OR (kind != 'send' AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.id = outbox.entry_id)) "
        "OR NOT EXISTS (SELECT 1 FROM chats c WHERE c.id = outbox.chat_id AND c.active = 1))")


async def mark_sent(db: Database, id: int, message_id: int | None, now: float) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, last_error = NULL "
            "WHERE id = ?", (now, message_id, id))
        await message_sent(conn, id, message_id)


async def mark_retry(db: Database, id: int, error: str, next_at: float) -> None:
    """Back to the queue, due again at `next_at`."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET state = 'pending', last_error = ?, next_attempt_at = ? "
            "WHERE id = ? AND state IN ('pending', 'sending')", (error, next_at, id))


async def release(db: Database, ids: Iterable[int]) -> None:
    """Claimed rows that were never sent go back to the queue as they were."""
    ids = list(ids)
    if not ids:
        return
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = MAX(attempts - 1, 0) "
            "WHERE state = 'sending' AND id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),))


async def mark_dead(db: Database, id: int, error: str) -> None:
    """Never to be sent: Telegram refused this message for good."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE outbox SET state = 'dead', last_error = ? WHERE id = ?",
                           (error, id))


async def kill_chat_rows(conn, chat_id: int, reason: str) -> int:
    """Inside a chat's deactivation: its queued alerts die. Rows killed."""
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'dead', last_error = ? "
        "WHERE chat_id = ? AND state IN ('pending', 'sending')", (reason, chat_id))
    return max(cursor.rowcount, 0)


async def follow_chat(conn, old_id: int, new_id: int) -> None:
    """Inside a chat's migration: alerts queued for the old id (or in flight to it, refused
    as migrated) go to the new one; OR IGNORE keeps one alert per (item, topic, chat) if
    both had it."""
    await conn.execute(
        "UPDATE OR IGNORE outbox SET chat_id = ?, state = 'pending' "
        "WHERE chat_id = ? AND state IN ('pending', 'sending')", (new_id, old_id))


async def requeue_inflight(db: Database) -> int:
    """At startup: rows left 'sending' by a crash go back to the queue; rows requeued."""
    async with db.transaction() as conn:
        cursor = await conn.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'")
        return max(cursor.rowcount, 0)


async def queue_length(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
    return row[0]


async def next_due_at(db: Database) -> float | None:
    """When the earliest waiting row becomes due, or None if nothing waits."""
    row = await db.fetchone("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'")
    return row[0]


async def alerts_sent_since(db: Database, t: float) -> int:
    """Alerts (not the edits and replies that grow them) sent since `t`."""
    row = await db.fetchone("SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND sent_at >= ? "
                            "AND kind = 'send'", (t,))
    return row[0]


async def prune_outbox(db: Database, before: float) -> int:
    """Forget finished rows older than `before`; rows removed.

    Sent rows are what makes an alert once-ever; they go only with their
    entries, after the retention period, when the item can no longer reappear.
    """
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM outbox WHERE created_at < ? AND (state = 'dead' "
            "OR (state = 'sent' AND match_id IS NULL))", (before,))
        return max(cursor.rowcount, 0)
