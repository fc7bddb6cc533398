"""Digest and surge state in SQLite: each chat's settings, the matches waiting for its
digest, and the notice ledger (digests and surge alerts, written before they are sent)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.store.db import Database
from bot.store.outbox_texts import queue_text

# Outbox rows go only to chats in instant mode; the others get digest items instead.
INSTANT_CHAT = ("NOT EXISTS (SELECT 1 FROM chat_digest_settings d "
                "WHERE d.chat_id = s.chat_id AND d.digest <> 'off')")


@dataclass(frozen=True)
class ChatNotices:
    digest: str = "off"  # as stored: off | hourly | daily HH:MM | every DURATION
    surges: bool = True


async def settings(db: Database, chat_id: int) -> ChatNotices:
    row = await db.fetchone(
        "SELECT digest, surges FROM chat_digest_settings WHERE chat_id = ?", (chat_id,))
    return ChatNotices(row["digest"], bool(row["surges"])) if row else ChatNotices()


async def set_digest(db: Database, chat_id: int, mode: str, now: float | None = None) -> None:
    """From now on, this chat's matches are instant alerts (`off`) or wait for its digest."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO chat_digest_settings (chat_id, digest, changed_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET digest = excluded.digest, "
            "changed_at = excluded.changed_at", (chat_id, mode, now))


async def set_surges(db: Database, chat_id: int, on: bool, now: float | None = None) -> None:
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO chat_digest_settings (chat_id, surges, changed_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET surges = excluded.surges", (chat_id, int(on), now))


async def queue_digest_items(conn, match_id: int, topic_id: int, now: float) -> int:
    """Inside the match's transaction: the match waits for the digest of every active
    subscribed chat in digest mode (never twice for one chat). Rows added."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO digest_items (chat_id, match_id, created_at) "
        "SELECT s.chat_id, ?, ? FROM subscriptions s "
        "JOIN chats c ON c.id = s.chat_id "
        "JOIN chat_digest_settings d ON d.chat_id = s.chat_id "
        "WHERE s.topic_id = ? AND c.active = 1 AND d.digest <> 'off'",
        (match_id, now, topic_id))
    return max(cursor.rowcount, 0)


@dataclass(frozen=True)
class DigestChat:
    chat_id: int
    language: str
    digest: str  # stored mode; 'off' for a chat that left digest mode with items waiting
    waiting: int


async def digest_chats(db: Database) -> list[DigestChat]:
    """Active chats in digest mode, and chats back to instant mode whose digest items still
    wait (they get them at once)."""
    rows = await db.fetchall(
        "SELECT c.id, c.language, COALESCE(d.digest, 'off') AS digest, "
        "(SELECT COUNT(*) FROM digest_items i WHERE i.chat_id = c.id AND i.notice_id IS NULL) "
        "AS waiting FROM chats c LEFT JOIN chat_digest_settings d ON d.chat_id = c.id "
        "WHERE c.active = 1 AND (d.digest <> 'off' OR EXISTS (SELECT 1 FROM digest_items i "
        "WHERE i.chat_id = c.id AND i.notice_id IS NULL)) ORDER BY c.id")
    return [DigestChat(row["id"], row["language"], row["digest"], row["waiting"])
            for row in rows]


@dataclass(frozen=True)
class WaitingMatch:
    """One match waiting for a chat's digest, with what the digest shows of it."""

    item_id: int
    topic: str
    topic_title: str
    entry_id: int
    story: str  # its coverage story; an entry in none is a story of its own (by link)
    title: str
    language: str
    outlet: str
    matched_at: float
    link: str = ""
    published_at: float | None = None
    story_id: int | None = None
    thread_id: int | None = None  # the forum thread the chat's subscription goes to


_SHOWN = ("e.id AS entry_id, COALESCE('story:' || se.story_id, 'item:' || e.alert_key) AS story, "
          "se.story_id, e.title, e.link, e.language, e.published_at, "
          "COALESCE(NULLIF(f.name, ''), f.url) AS outlet, m.matched_at")


async def waiting_matches(db: Database, chat_id: int, before: float) -> list[WaitingMatch]:
    """The chat's digest items recorded before `before` and in no digest yet, oldest first."""
    rows = await db.fetchall(
        f"SELECT i.id, t.name, COALESCE(tt.title, t.title) AS topic_title, {_SHOWN}, "
        "s.thread_id "
        "FROM digest_items i JOIN matches m ON m.id = i.match_id "
        "JOIN topics t ON t.id = m.topic_id JOIN entries e ON e.id = m.entry_id "
        "JOIN feeds f ON f.id = e.feed_id LEFT JOIN story_entries se ON se.entry_id = e.id "
        "JOIN chats c ON c.id = i.chat_id "
        "LEFT JOIN subscriptions s ON s.chat_id = i.chat_id AND s.topic_id = m.topic_id "
        "LEFT JOIN topic_titles tt ON tt.topic_id = t.id AND tt.language = c.language "
        "WHERE i.chat_id = ? AND i.notice_id IS NULL AND i.created_at < ? ORDER BY i.id",
        (chat_id, before))
    return [WaitingMatch(item_id=row["id"], topic=row["name"], topic_title=row["topic_title"],
                         thread_id=row["thread_id"], **_shown(row)) for row in rows]


def _shown(row) -> dict:
    return {"entry_id": row["entry_id"], "story": row["story"], "title": row["title"],
            "language": row["language"], "outlet": row["outlet"],
            "matched_at": row["matched_at"], "link": row["link"],
            "published_at": row["published_at"], "story_id": row["story_id"]}


async def topic_window(db: Database, topic_id: int, since: float, until: float
                       ) -> list[WaitingMatch]:
    """The topic's matched entries published in [since, until), as a digest lists them
    (`item_id` 0): what a surge alert picks its largest stories from."""
    rows = await db.fetchall(
        f"SELECT t.name, t.title AS topic_title, {_SHOWN} FROM matches m "
        "JOIN topics t ON t.id = m.topic_id JOIN entries e ON e.id = m.entry_id "
        "JOIN feeds f ON f.id = e.feed_id LEFT JOIN story_entries se ON se.entry_id = e.id "
        "WHERE m.topic_id = ? AND e.published_at >= ? AND e.published_at < ? ORDER BY e.id",
        (topic_id, since, until))
    return [WaitingMatch(item_id=0, topic=row["name"], topic_title=row["topic_title"],
                         **_shown(row)) for row in rows]


async def write_notice(db: Database, kind: str, chat_id: int, key: str, parts: Sequence[str],
                       now: float, item_ids: Iterable[int] = (), *,
                       thread_id: int | None = None) -> bool:
    """Record a notice, with the digest items it lists, and queue its messages in the
    outbox (to the forum thread `thread_id`, if any), in one transaction.

    False (and nothing changes) when this (kind, chat, key) was already written:
    that is what makes a digest once per period and a surge once per day.
    """
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO notices (kind, chat_id, key, parts, state, created_at) "
            "VALUES (?, ?, ?, ?, 'queued', ?)",
            (kind, chat_id, key, json.dumps(list(parts), ensure_ascii=False), now))
        if cursor.rowcount <= 0:
            return False
        notice_id = cursor.lastrowid
        await conn.execute(
            "UPDATE digest_items SET notice_id = ? WHERE chat_id = ? AND notice_id IS NULL "
            "AND id IN (SELECT value FROM json_each(?))",
            (notice_id, chat_id, json.dumps(list(item_ids))))
        for index, part in enumerate(parts):  # in order: a chat's rows go out oldest first
            await queue_text(conn, kind, chat_id, f"notice:{notice_id}:{index}", now,
                             body=part, thread_id=thread_id)
        return True


async def notice_exists(db: Database, kind: str, chat_id: int, key: str) -> bool:
    row = await db.fetchone("SELECT 1 FROM notices WHERE kind = ? AND chat_id = ? AND key = ?",
                            (kind, chat_id, key))
    return row is not None


async def prune_notices(db: Database, before: float) -> int:
    """Forget notices older than `before` (their keys are in the past; their messages
    live in the outbox)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM notices WHERE state IN ('queued', 'sent', 'dead') AND created_at < ?",
            (before,))
        return max(cursor.rowcount, 0)


async def topic_counts(db: Database, since: float, until: float, history: float,
                       min_entries: int) -> list[tuple[int, str, int, int, int]]:
    """Per topic with at least `min_entries` matched entries published in [since, until):
    (topic id, name, entries, languages, entries published in the `history` seconds
    before `since`).

    By publication time, not by when they were matched: entries caught up after
    downtime are counted when they came out, so a backlog is not a surge. An item
    published by two feeds is one entry (its alert key), as for alerts.
    """
    rows = await db.fetchall(
        "SELECT m.topic_id, t.name, COUNT(DISTINCT e.alert_key) AS n, "
        "COUNT(DISTINCT e.language) AS languages FROM entries e "
        "JOIN matches m ON m.entry_id = e.id JOIN topics t ON t.id = m.topic_id "
        "WHERE e.published_at >= ? AND e.published_at < ? GROUP BY m.topic_id HAVING n >= ?",
        (since, until, min_entries))
    found = []
    for row in rows:
        before = await db.fetchone(
            "SELECT COUNT(DISTINCT e.alert_key) FROM entries e "
            "JOIN matches m ON m.entry_id = e.id "
            "WHERE m.topic_id = ? AND e.published_at >= ? AND e.published_at < ?",
            (row["topic_id"], since - history, since))
        found.append((row["topic_id"], row["name"], row["n"], row["languages"], before[0]))
    return found


@dataclass(frozen=True)
class SurgeChat:
    chat_id: int
    language: str
    topic_title: str
    thread_id: int | None = None  # the forum thread the chat's subscription goes to


async def surge_chats(db: Database, topic_id: int) -> list[SurgeChat]:
    """Active chats subscribed to the topic with surge alerts on, with its title in their
    language."""
    rows = await db.fetchall(
        "SELECT c.id, c.language, COALESCE(tt.title, t.title) AS title, s.thread_id "
        "FROM subscriptions s "
        "JOIN chats c ON c.id = s.chat_id JOIN topics t ON t.id = s.topic_id "
        "LEFT JOIN topic_titles tt ON tt.topic_id = t.id AND tt.language = c.language "
        "LEFT JOIN chat_digest_settings d ON d.chat_id = c.id "
        "WHERE s.topic_id = ? AND c.active = 1 AND COALESCE(d.surges, 1) = 1 ORDER BY c.id",
        (topic_id,))
    return [SurgeChat(row["id"], row["language"], row["title"], row["thread_id"])
            for row in rows]


async def matched_published(db: Database, topic: str, since: float, until: float
                            ) -> list[tuple[float, str]]:
    """(publication time, language) of each entry the topic matched, published in
    [since, until); an item two feeds published is one entry (its alert key)."""
    rows = await db.fetchall(
        "SELECT MIN(e.published_at) AS published, e.language FROM matches m "
        "JOIN entries e ON e.id = m.entry_id JOIN topics t ON t.id = m.topic_id "
        "WHERE t.name = ? AND e.published_at >= ? AND e.published_at < ? "
        "GROUP BY e.alert_key, e.language", (topic, since, until))
    return [(row["published"], row["language"]) for row in rows]


async def move_chat(conn, old_id: int, new_id: int) -> None:
    """Inside migrate_chat's transaction: a group that became a supergroup keeps its digest
    mode, its waiting matches and its unsent digests and surge alerts."""
    await conn.execute(
        "INSERT OR IGNORE INTO chat_digest_settings (chat_id, digest, surges, changed_at) "
        "SELECT ?, digest, surges, changed_at FROM chat_digest_settings WHERE chat_id = ?",
        (new_id, old_id))
    await conn.execute("UPDATE OR IGNORE notices SET chat_id = ? WHERE chat_id = ?",
                       (new_id, old_id))
    await conn.execute("UPDATE OR IGNORE digest_items SET chat_id = ? WHERE chat_id = ?",
                       (new_id, old_id))
