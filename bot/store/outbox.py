"""The one outbox in SQLite: every message the bot sends on its own (alert, story edit or
reply, digest part, surge alert, health report, notice) is a row, claimed, sent, retried
or dead.

A row is written in the same transaction as what decided it and marked 'sending'
before it is sent, so a crash loses nothing and repeats at most the sends that
were in flight.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.store.db import Database
from bot.store.outbox_texts import TEXT_KINDS, queue_text
from bot.store.stories import message_sent, record_entry

__all__ = ["TEXT_KINDS", "queue_text", "OutboxItem", "claim_due", "fold_backlogs"]


@dataclass(frozen=True)
class OutboxItem:
    """One claimed row with everything needed to render and send it."""

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
    # send | edit | reply (drawn from a story, bot/alerts/coverage.py);
    # digest | surge | health (their `body`); notice (a catalog text, `notice`)
    kind: str = "send"
    story_id: int | None = None
    published_at: float = 0.0
    # The feed gave no publication time (or one in the future): parsing then sets it to
    # the instant the entry was first seen, so the alert says "seen" instead.
    seen_only: bool = False
    chat_timezone: str | None = None  # None: bot.default_timezone
    chat_quiet: str | None = None  # the chat's quiet hours ("22:00-07:00"), None: none
    topics: tuple[tuple[int, str], ...] = ()  # (id, title) of every topic the alert names
    body: str | None = None  # digest, surge, health: the HTML decided with the row
    notice: dict | None = None  # notice: {"key": catalog key, "values": {...}}
    silent: bool = False  # sent without a notification sound
    unsure: bool = False  # an earlier send of it timed out and may have arrived


# Kinds whose message is drawn from an entry when sent; the others carry their text.
ENTRY_KINDS = ("send", "edit", "reply")


async def record_matches(db: Database, entry_id: int, alert_key: str,
                         matches: Sequence[tuple[str, Iterable[str]]], now: float) -> int:
    """Store an entry's matches and queue one message per active chat following any of
    them, the entry starting a story of its own; rows queued (see stories.record_entry).

    Re-polls and re-published entries never queue a second message.
    """
    recorded = await record_entry(db, entry_id, alert_key, matches, now)
    return recorded.queued


# The chats with queued rows, in chat id order after `:after`, found by skipping through
# the partial index `outbox_queue` (one seek per chat, whatever their backlogs).
_CHATS = """
WITH RECURSIVE next(chat_id) AS (
  SELECT (SELECT MIN(chat_id) FROM outbox INDEXED BY outbox_queue
          WHERE state = 'pending' AND chat_id > :after)
  UNION ALL
  SELECT (SELECT MIN(chat_id) FROM outbox INDEXED BY outbox_queue
          WHERE state = 'pending' AND chat_id > next.chat_id)
  FROM next WHERE next.chat_id IS NOT NULL
  LIMIT :chats
)
"""

# The first `:per_chat` queued rows of each of those chats, with what rendering needs.
_CLAIM = _CHATS + """
SELECT o.id, o.alert_key, o.chat_id, o.thread_id, o.topic_id, o.attempts, o.created_at,
       o.next_attempt_at, o.kind, o.story_id, o.body, o.notice, o.silent, o.unsure,
       o.match_id, COALESCE(c.active, 1) AS chat_active,
       COALESCE(c.type, 'private') AS chat_type, c.language AS chat_language,
       c.timezone AS chat_timezone, c.quiet AS chat_quiet, t.id IS NOT NULL AS topic_exists,
       COALESCE(tt.title, t.title, '') AS topic_title,
       m.terms, e.id AS entry_id, e.title, e.summary, e.link, e.language AS entry_language,
       e.published_at, e.published_at >= e.first_seen_at AS seen_only,
       COALESCE(NULLIF(f.name, ''), f.url) AS feed_name
FROM next
JOIN outbox o ON o.id IN (SELECT w.id FROM outbox w INDEXED BY outbox_queue
                          WHERE w.chat_id = next.chat_id AND w.state = 'pending'
                          ORDER BY w.id LIMIT :per_chat)
LEFT JOIN chats c ON c.id = o.chat_id
LEFT JOIN topics t ON t.id = o.topic_id
LEFT JOIN topic_titles tt ON tt.topic_id = t.id AND tt.language = c.language
LEFT JOIN matches m ON m.id = o.match_id
-- a send names its match; an edit or a reply the entry that caused it
LEFT JOIN entries e ON e.id = COALESCE(m.entry_id, o.entry_id)
LEFT JOIN feeds f ON f.id = e.feed_id
WHERE next.chat_id IS NOT NULL
"""

_NO_CHAT = -(2**63)  # below every chat id


def _orphaned(row) -> str | None:
    """Why a queued row can never be sent, or None. A chat the bot has no row for (an
    admin who never wrote to it) is tried: Telegram says whether it exists."""
    if not row["chat_active"]:
        return "chat no longer there"
    if row["kind"] == "send" and (row["match_id"] is None or not row["topic_exists"]):
        return "entry or topic no longer there"
    if row["kind"] in ENTRY_KINDS and row["entry_id"] is None:
        return "entry no longer there"
    return None


def _item(row) -> OutboxItem:
    return OutboxItem(
        id=row["id"], alert_key=row["alert_key"], chat_id=row["chat_id"],
        chat_type=row["chat_type"], chat_language=row["chat_language"] or "",
        thread_id=row["thread_id"], topic_id=row["topic_id"],
        topic_title=row["topic_title"], entry_id=row["entry_id"] or 0,
        title=row["title"] or "", summary=row["summary"] or "", link=row["link"] or "",
        entry_language=row["entry_language"] or "", feed_name=row["feed_name"] or "",
        terms=tuple(json.loads(row["terms"] or "[]")),
        attempts=row["attempts"] + 1, created_at=row["created_at"],
        kind=row["kind"], story_id=row["story_id"],
        published_at=row["published_at"] or 0.0, seen_only=bool(row["seen_only"]),
        chat_timezone=row["chat_timezone"], chat_quiet=row["chat_quiet"], body=row["body"],
        notice=json.loads(row["notice"]) if row["notice"] else None,
        silent=bool(row["silent"]), unsure=bool(row["unsure"]))


async def _heads(db: Database, after: int, chats: int, per_chat: int) -> list:
    """Each chat's first rows, in chat then id order."""
    rows = await db.fetchall(_CLAIM, {"after": after, "chats": chats, "per_chat": per_chat})
    return sorted(rows, key=lambda row: (row["chat_id"], row["id"]))


async def claim_due(db: Database, now: float, limit: int, *, per_chat: int = 1_000_000,
                    skip_chats: Iterable[int] = (), console: bool = False,
                    after: int | None = None) -> list[OutboxItem]:
    """Mark up to `limit` due rows 'sending' and return them, each chat's oldest first.

    Chats are taken round-robin: those after chat id `after` first (the last chat
    the previous claim served), then from the start; at most `per_chat` rows each,
    none for `skip_chats` (chats whose earlier rows are still being sent). A chat's
    rows go in order: a row waiting to retry holds back the chat's later ones.

    Only the console's virtual chats with `console`, only Telegram chats without:
    `run --console` on a database that also serves Telegram leaves their alerts
    queued. Rows whose entry, topic or chat is gone are marked dead instead.

    The reads go through the queue's index only (what is claimed, not the backlog,
    is what they cost); the write transaction only flips the claimed rows.
    """
    skip = set(skip_chats)
    per_chat = max(1, min(per_chat, limit))
    chats = limit + len(skip)
    start = _NO_CHAT if after is None else after
    rows = await _heads(db, start, chats, per_chat)
    seen = {row["chat_id"] for row in rows}
    if start != _NO_CHAT and len(seen) < chats:  # round the end: the chats up to `after`
        rows += [row for row in await _heads(db, _NO_CHAT, chats - len(seen), per_chat)
                 if row["chat_id"] not in seen]
    items: list[OutboxItem] = []
    dead: list[tuple[str, int]] = []
    held: set[int] = set()  # chats whose oldest row waits to retry
    for row in rows:
        chat = row["chat_id"]
        if chat in skip or chat in held or len(items) >= limit:
            continue
        if (row["chat_type"] == "console") != console:
            continue
        reason = _orphaned(row)
        if reason is not None:
            dead.append((reason, row["id"]))
            continue
        if row["next_attempt_at"] > now:
            held.add(chat)
            continue
        items.append(_item(row))
    if items or dead:
        async with db.transaction() as conn:
            if dead:
                await conn.executemany(
                    "UPDATE outbox SET state = 'dead', last_error = ? "
                    "WHERE id = ? AND state = 'pending'", dead)
            cursor = await conn.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1 "
                "WHERE state = 'pending' AND id IN (SELECT value FROM json_each(?)) "
                "RETURNING id", (json.dumps([item.id for item in items]),))
            claimed = {row[0] for row in await cursor.fetchall()}
        items = [item for item in items if item.id in claimed]
    return sorted(items, key=lambda item: item.id)


# ---- the per-chat cap

_OVER_CAP = _CHATS + """
SELECT next.chat_id, (SELECT w.id FROM outbox w INDEXED BY outbox_queue
                      WHERE w.chat_id = next.chat_id
                      AND w.state = 'pending' ORDER BY w.id DESC LIMIT 1 OFFSET :cap - 1) AS boundary
FROM next WHERE next.chat_id IS NOT NULL AND boundary IS NOT NULL
"""


@dataclass(frozen=True)
class Folded:
    chat_id: int
    topic: str
    count: int


async def fold_backlogs(db: Database, cap: int, now: float) -> list[Folded]:
    """Chats with more than `cap` rows waiting keep their newest `cap`: the older alerts
    are folded, per topic, into one notice "N more matches: /recent TOPIC" (counted
    up while it waits), never dropped unsaid. Edits, replies and texts are never folded.

    Looks at each chat's queue `cap` rows deep at most; folding costs what it folds."""
    over = await db.fetchall(_OVER_CAP, {"after": _NO_CHAT, "chats": 1_000_000, "cap": cap})
    folded: list[Folded] = []
    for row in over:
        async with db.transaction() as conn:
            folded += await _fold(conn, row["chat_id"], row["boundary"], now)
    return folded


async def _fold(conn, chat_id: int, boundary: int, now: float) -> list[Folded]:
    counts = await (await conn.execute(
        "SELECT o.topic_id, t.name, COUNT(*) FROM outbox o JOIN topics t ON t.id = o.topic_id "
        "WHERE o.chat_id = ? AND o.state = 'pending' AND o.id <= ? AND o.kind = 'send' "
        "GROUP BY o.topic_id ORDER BY MIN(o.id)", (chat_id, boundary))).fetchall()
    if not counts:
        return []
    await conn.execute(
        "UPDATE outbox SET state = 'dead', last_error = 'folded into a \"more matches\" notice' "
        "WHERE chat_id = ? AND state = 'pending' AND id <= ? AND kind = 'send' "
        "AND topic_id IN (SELECT id FROM topics)", (chat_id, boundary))
    folded = []
    for topic_id, name, count in counts:
        key = f"fold:{topic_id}"
        grown = await conn.execute(
            "UPDATE outbox SET notice = json_set(notice, '$.values.count', "
            "json_extract(notice, '$.values.count') + ?) "
            "WHERE chat_id = ? AND state = 'pending' AND kind = 'notice' "
            "AND alert_key LIKE ? || ':%'", (count, chat_id, key))
        if grown.rowcount <= 0:
            await queue_text(conn, "notice", chat_id, f"{key}:{boundary}", now,
                             notice={"key": "delivery.folded",
                                     "values": {"count": count, "topic": name}})
        folded.append(Folded(chat_id, name, count))
    return folded


# ---- outcomes

async def mark_sent(db: Database, id: int, message_id: int | None, now: float) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, last_error = NULL "
            "WHERE id = ?", (now, message_id, id))
        await message_sent(conn, id, message_id)


async def mark_retry(db: Database, id: int, error: str, next_at: float, *,
                     unsure: bool = False) -> None:
    """Back to the queue, due again at `next_at`; `unsure`: this send timed out and may
    have arrived, so it is sent again once at most."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET state = 'pending', last_error = ?, next_attempt_at = ?, "
            "unsure = MAX(unsure, ?) WHERE id = ? AND state IN ('pending', 'sending')",
            (error, next_at, int(unsure), id))


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


async def thread_gone(db: Database, chat_id: int, thread_id: int, now: float) -> None:
    """A forum thread was deleted: what was routed there (subscriptions, queued rows)
    goes to the group's General thread, and the group is told once."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE subscriptions SET thread_id = NULL "
                           "WHERE chat_id = ? AND thread_id = ?", (chat_id, thread_id))
        await conn.execute(
            "UPDATE outbox SET thread_id = NULL WHERE chat_id = ? AND thread_id = ? "
            "AND state IN ('pending', 'sending')", (chat_id, thread_id))
        await queue_text(conn, "notice", chat_id, f"thread-gone:{thread_id}", now,
                         notice={"key": "delivery.thread_gone", "values": {}})


async def kill_chat_rows(conn, chat_id: int, reason: str) -> int:
    """Inside a chat's deactivation: its queued messages die. Rows killed."""
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
