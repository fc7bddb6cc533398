"""The stories aggregate: which story each matched entry joined, the message each chat has
for a story, and each chat's coverage mode. Pruned with the entries."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.fanout import (
    Edit,
    Reply,
    Send,
    Spread,
    StoryChat,
    Subscriber,
    plan_delivery,
)
from bot.store.db import Database
from bot.store.digests import INSTANT_CHAT, queue_digest_items

OUTLET = "COALESCE(NULLIF(f.name, ''), f.url)"  # a feed as readers name it


@dataclass(frozen=True)
class RecordedEntry:
    story_id: int | None  # None: the entry matched no existing topic
    placed: bool  # the entry joined or started its story just now (not on an earlier try)
    started: bool  # the entry started its story
    queued: int  # outbox rows written


@dataclass(frozen=True)
class StoryEntry:
    """One entry of a story, as coverage lines and /story show it."""

    entry_id: int
    feed_id: int
    outlet: str
    language: str
    published_at: float
    joined_at: float
    title: str
    summary: str
    link: str


@dataclass(frozen=True)
class StoryMessage:
    story_id: int
    chat_id: int
    entry_id: int  # the entry the message shows
    message_id: int | None
    editable: bool


async def store_matches(conn, entry_id: int, matches: Sequence[tuple[str, Iterable[str]]],
                        now: float) -> list[tuple[int, int]]:
    """Insert an entry's matches (inside the caller's transaction); (topic id, match id) each.

    Topics that no longer exist are skipped; matches already stored are kept as they are.
    """
    stored = []
    for topic_name, terms in matches:
        row = await (await conn.execute("SELECT id FROM topics WHERE name = ?",
                                        (topic_name,))).fetchone()
        if row is None:
            continue
        topic_id = row[0]
        await conn.execute(
            "INSERT OR IGNORE INTO matches (entry_id, topic_id, terms, matched_at) "
            "VALUES (?, ?, ?, ?)",
            (entry_id, topic_id, json.dumps(list(terms), ensure_ascii=False), now))
        match = await (await conn.execute(
            "SELECT id FROM matches WHERE entry_id = ? AND topic_id = ?",
            (entry_id, topic_id))).fetchone()
        stored.append((topic_id, match[0]))
    return stored


async def record_entry(db: Database, entry_id: int, alert_key: str,
                       matches: Sequence[tuple[str, Iterable[str]]], now: float, *,
                       story_id: int | None = None, signature: str = "{}") -> RecordedEntry:
    """In one transaction: the entry's matches, its place in a story (joining `story_id`,
    or a new story when None or gone) and the outbox work for every chat concerned.

    An entry already placed keeps its story and queues nothing: re-polls and
    retries of the same entry never repeat a message.
    """
    async with db.transaction() as conn:
        stored = await store_matches(conn, entry_id, matches, now)
        # Matched and queued in one commit: the entry no longer waits for matching.
        await conn.execute("UPDATE entries SET pending_match = 0 WHERE id = ?", (entry_id,))
        if not stored:
            return RecordedEntry(None, False, False, 0)
        for topic_id, match_id in stored:
            # Chats in digest mode get the match in their next digest instead.
            await queue_digest_items(conn, match_id, topic_id, now)
        row = await (await conn.execute("SELECT story_id FROM story_entries WHERE entry_id = ?",
                                        (entry_id,))).fetchone()
        if row is not None:
            return RecordedEntry(row[0], False, False, 0)
        story_id, started, new_language = await _place(conn, entry_id, story_id, now)
        await conn.execute(
            "INSERT INTO story_entries (entry_id, story_id, joined_at, signature) "
            "VALUES (?, ?, ?, ?)", (entry_id, story_id, now, signature))
        queued = await _queue(conn, entry_id, alert_key, story_id, stored, new_language, now)
    return RecordedEntry(story_id, True, started, queued)


async def _place(conn, entry_id: int, story_id: int | None, now: float
                 ) -> tuple[int, bool, bool]:
    """(story id, started, the entry brings a new language) for an entry joining or starting."""
    if story_id is not None:
        languages = {row[0] for row in await (await conn.execute(
            "SELECT DISTINCT e.language FROM story_entries se JOIN entries e ON e.id = se.entry_id "
            "WHERE se.story_id = ?", (story_id,))).fetchall()}
        if languages:  # still there (not pruned meanwhile)
            await conn.execute("UPDATE stories SET last_joined_at = ? WHERE id = ?",
                               (now, story_id))
            language = (await (await conn.execute("SELECT language FROM entries WHERE id = ?",
                                                  (entry_id,))).fetchone())[0]
            return story_id, False, language not in languages
    cursor = await conn.execute(
        "INSERT INTO stories (started_at, last_joined_at) VALUES (?, ?)", (now, now))
    return cursor.lastrowid, True, False


async def _queue(conn, entry_id: int, alert_key: str, story_id: int,
                 stored: list[tuple[int, int]], new_language: bool, now: float) -> int:
    match_of = dict(stored)
    topic_ids = json.dumps(list(match_of))
    subscribers = [Subscriber(*r) for r in await (await conn.execute(
        "SELECT s.chat_id, s.topic_id, s.thread_id, c.coverage, c.story_outlets, "
        "c.story_languages FROM subscriptions s JOIN chats c ON c.id = s.chat_id "
        f"WHERE s.topic_id IN (SELECT value FROM json_each(?)) AND c.active = 1 AND {INSTANT_CHAT} "
        "ORDER BY s.created_at, s.chat_id, s.topic_id", (topic_ids,))).fetchall()]
    # A story message Telegram refused for good was never shown: the chat has no message
    # to edit or reply to, so this entry is sent to it afresh and becomes its message.
    await conn.execute(
        "DELETE FROM story_messages WHERE story_id = ? AND message_id IS NULL AND outbox_id IN "
        "(SELECT id FROM outbox WHERE story_id = ? AND state = 'dead')", (story_id, story_id))
    # A chat that muted or left every topic the story matched hears no more of it.
    story_chats = [StoryChat(r[0], r[1], bool(r[2])) for r in await (await conn.execute(
        "SELECT s.chat_id, c.coverage, EXISTS (SELECT 1 FROM subscriptions sub "
        "  JOIN matches m ON m.topic_id = sub.topic_id "
        "  JOIN story_entries se ON se.entry_id = m.entry_id "
        "  WHERE sub.chat_id = s.chat_id AND se.story_id = s.story_id) "
        "FROM story_messages s JOIN chats c ON c.id = s.chat_id "
        f"WHERE s.story_id = ? AND c.active = 1 AND {INSTANT_CHAT} ORDER BY s.outbox_id",
        (story_id,))).fetchall()]
    spread = Spread(*await (await conn.execute(
        f"SELECT COUNT(DISTINCT {OUTLET}), COUNT(DISTINCT e.language) FROM story_entries se "
        "JOIN entries e ON e.id = se.entry_id JOIN feeds f ON f.id = e.feed_id "
        "WHERE se.story_id = ?", (story_id,))).fetchone())
    queued = 0
    for intent in plan_delivery(subscribers, story_chats, new_language, spread):
        if isinstance(intent, Send):
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO outbox (match_id, alert_key, topic_id, chat_id, thread_id, "
                "state, next_attempt_at, created_at, kind, story_id, entry_id) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, 'send', ?, ?)",
                (match_of[intent.topic_id], alert_key, intent.topic_id, intent.chat_id,
                 intent.thread_id, now, now, story_id, entry_id))
            if cursor.rowcount <= 0:
                continue
            if intent.starts_story_message:
                await conn.execute(
                    "INSERT OR IGNORE INTO story_messages (story_id, chat_id, entry_id, outbox_id) "
                    "VALUES (?, ?, ?, ?)", (story_id, intent.chat_id, entry_id, cursor.lastrowid))
        elif isinstance(intent, Edit):
            # Coalesced: an edit still waiting will draw the latest coverage anyway.
            cursor = await conn.execute(
                "INSERT INTO outbox (match_id, alert_key, topic_id, chat_id, state, "
                "next_attempt_at, created_at, kind, story_id, entry_id) "
                "SELECT NULL, ?, 0, ?, 'pending', ?, ?, 'edit', ?, ? WHERE NOT EXISTS ("
                "SELECT 1 FROM outbox WHERE kind = 'edit' AND story_id = ? AND chat_id = ? "
                "AND state = 'pending')",
                (f"edit:{story_id}:{entry_id}", intent.chat_id, now, now, story_id, entry_id,
                 story_id, intent.chat_id))
        else:
            assert isinstance(intent, Reply)
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO outbox (match_id, alert_key, topic_id, chat_id, state, "
                "next_attempt_at, created_at, kind, story_id, entry_id) "
                "VALUES (NULL, ?, 0, ?, 'pending', ?, ?, 'reply', ?, ?)",
                (alert_key, intent.chat_id, now, now, story_id, entry_id))
        queued += max(cursor.rowcount, 0)
    return queued


# ---- reading stories


async def open_stories(db: Database, since: float) -> list[tuple[int, str, float]]:
    """(story id, signature JSON, joined at) of every entry of the stories still open
    (latest entry joined at or after `since`), oldest first: what a restart reloads."""
    rows = await db.fetchall(
        "SELECT se.story_id, se.signature, se.joined_at FROM story_entries se "
        "JOIN stories s ON s.id = se.story_id WHERE s.last_joined_at >= ? "
        "ORDER BY se.joined_at, se.entry_id", (since,))
    return [(row[0], row[1], row[2]) for row in rows]


async def story_entries(db: Database, story_id: int) -> list[StoryEntry]:
    """The story's entries in the order they joined."""
    rows = await db.fetchall(
        f"SELECT e.id, e.feed_id, {OUTLET} AS outlet, e.language, "
        "e.published_at, se.joined_at, e.title, e.summary, e.link "
        "FROM story_entries se JOIN entries e ON e.id = se.entry_id "
        "JOIN feeds f ON f.id = e.feed_id WHERE se.story_id = ? "
        "ORDER BY se.joined_at, e.id", (story_id,))
    return [StoryEntry(*row) for row in rows]


async def story_of_entry(db: Database, entry_id: int) -> int | None:
    row = await db.fetchone("SELECT story_id FROM story_entries WHERE entry_id = ?", (entry_id,))
    return None if row is None else row[0]


async def stories_of_entries(db: Database, entry_ids: Iterable[int]) -> dict[int, int]:
    """entry id -> story id, for the entries that joined one."""
    rows = await db.fetchall(
        "SELECT entry_id, story_id FROM story_entries "
        "WHERE entry_id IN (SELECT value FROM json_each(?))", (json.dumps(list(entry_ids)),))
    return {row[0]: row[1] for row in rows}


async def story_exists(db: Database, story_id: int) -> bool:
    return await db.fetchone("SELECT 1 FROM stories WHERE id = ?", (story_id,)) is not None


async def story_of_message(db: Database, chat_id: int, message_id: int) -> int | None:
    """The story a message of the bot in this chat belongs to (an alert, edited or not,
    or a reply about it)."""
    row = await db.fetchone(
        "SELECT story_id FROM story_messages WHERE chat_id = ? AND message_id = ? "
        "UNION ALL SELECT story_id FROM outbox WHERE chat_id = ? AND message_id = ? "
        "AND story_id IS NOT NULL LIMIT 1", (chat_id, message_id, chat_id, message_id))
    return None if row is None else row[0]


async def story_message(db: Database, story_id: int, chat_id: int) -> StoryMessage | None:
    row = await db.fetchone(
        "SELECT story_id, chat_id, entry_id, message_id, editable FROM story_messages "
        "WHERE story_id = ? AND chat_id = ?", (story_id, chat_id))
    return None if row is None else StoryMessage(row[0], row[1], row[2], row[3], bool(row[4]))


async def message_sent(conn, outbox_id: int, message_id: int | None) -> None:
    """Inside the transaction marking an outbox row sent: the story message it started
    now has the Telegram id that later edits and replies target."""
    await conn.execute("UPDATE story_messages SET message_id = ? WHERE outbox_id = ?",
                       (message_id, outbox_id))


@dataclass(frozen=True)
class Adopted:
    """An edit or reply row that now sends the story afresh, in the refused send's thread."""

    thread_id: int | None


async def adopt_story_message(db: Database, story_id: int, chat_id: int, entry_id: int,
                              outbox_id: int) -> Adopted | None:
    """When the chat's story message was refused for good (its send row is dead: nothing
    was shown), outbox row `outbox_id`, an edit or reply of it, sends the story instead
    and becomes the message later entries edit. None when there is a message to target."""
    async with db.transaction() as conn:
        row = await (await conn.execute(
            "SELECT o.thread_id FROM story_messages s JOIN outbox o ON o.id = s.outbox_id "
            "WHERE s.story_id = ? AND s.chat_id = ? AND s.message_id IS NULL "
            "AND (o.state = 'dead' OR o.id = ?)", (story_id, chat_id, outbox_id))).fetchone()
        if row is None:
            return None
        await conn.execute(
            "UPDATE story_messages SET entry_id = ?, outbox_id = ?, editable = 1 "
            "WHERE story_id = ? AND chat_id = ?", (entry_id, outbox_id, story_id, chat_id))
    return Adopted(row[0])


async def move_chat_stories(conn, old_id: int, new_id: int) -> None:
    """Inside a chat's migration: its story messages follow it (the old messages cannot
    be edited under the new id, so their coverage goes as replies)."""
    await conn.execute("UPDATE OR IGNORE story_messages SET chat_id = ?, editable = 0 "
                       "WHERE chat_id = ?", (new_id, old_id))


async def stop_editing(db: Database, story_id: int, chat_id: int) -> None:
    """Telegram will not edit this story message any more: later coverage goes as replies."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE story_messages SET editable = 0 "
                           "WHERE story_id = ? AND chat_id = ?", (story_id, chat_id))


async def entry_topics_for_chat(db: Database, entry_id: int, chat_id: int
                                ) -> list[tuple[int, str, tuple[str, ...]]]:
    """(topic id, title in the chat's language, matched terms) of each topic the entry
    matched that the chat follows."""
    rows = await db.fetchall(
        "SELECT t.id, COALESCE(tt.title, t.title), m.terms FROM matches m "
        "JOIN topics t ON t.id = m.topic_id "
        "JOIN subscriptions s ON s.topic_id = m.topic_id AND s.chat_id = ? "
        "JOIN chats c ON c.id = s.chat_id "
        "LEFT JOIN topic_titles tt ON tt.topic_id = t.id AND tt.language = c.language "
        "WHERE m.entry_id = ? ORDER BY s.created_at, t.id", (chat_id, entry_id))
    return [(row[0], row[1], tuple(json.loads(row[2] or "[]"))) for row in rows]


async def story_topics_for_chat(db: Database, story_id: int, chat_id: int
                                ) -> list[tuple[int, str]]:
    """(topic id, title in the chat's language) of every topic the chat follows that an
    entry of the story matched, in the order the story first matched them: a topic a
    later entry brings comes last, and the others keep their places."""
    rows = await db.fetchall(
        "SELECT t.id, COALESCE(NULLIF(tt.title, ''), NULLIF(t.title, ''), t.name), "
        "MIN(se.joined_at) AS first FROM story_entries se "
        "JOIN matches m ON m.entry_id = se.entry_id "
        "JOIN topics t ON t.id = m.topic_id "
        "JOIN subscriptions s ON s.topic_id = t.id AND s.chat_id = ? "
        "JOIN chats c ON c.id = s.chat_id "
        "LEFT JOIN topic_titles tt ON tt.topic_id = t.id AND tt.language = c.language "
        "WHERE se.story_id = ? GROUP BY t.id ORDER BY first, MIN(s.created_at), t.id",
        (chat_id, story_id))
    return [(row[0], row[1]) for row in rows]


async def next_edit_entry(db: Database, story_id: int, chat_id: int, outbox_id: int
                          ) -> int | None:
    """The entry of the chat's next edit row for the story after row `outbox_id`: the
    entries that joined from that row's entry up to this one are the row's to show."""
    row = await db.fetchone(
        "SELECT entry_id FROM outbox WHERE kind = 'edit' AND story_id = ? AND chat_id = ? "
        "AND id > ? ORDER BY id LIMIT 1", (story_id, chat_id, outbox_id))
    return None if row is None else row[0]


async def sent_before(db: Database, story_id: int, chat_id: int, outbox_id: int) -> bool:
    """Whether the chat was sent a message of the story before row `outbox_id`."""
    row = await db.fetchone(
        "SELECT 1 FROM outbox WHERE kind = 'send' AND story_id = ? AND chat_id = ? "
        "AND id < ? AND state IN ('sent', 'sending', 'pending') LIMIT 1",
        (story_id, chat_id, outbox_id))
    return row is not None


async def uncovered_outlets(db: Database, story_id: int) -> list[str]:
    """Feeds, by outlet name, whose language has a query in one of the story's topics,
    that have no entry in the story and that are not failing (a feed down all along is
    not an outlet that has not covered it)."""
    rows = await db.fetchall(
        f"SELECT DISTINCT {OUTLET} FROM feeds f "
        "WHERE f.failing_since IS NULL "
        "AND f.language IN (SELECT q.language FROM topic_queries q WHERE q.topic_id IN ("
        "  SELECT m.topic_id FROM matches m JOIN story_entries se ON se.entry_id = m.entry_id "
        "  WHERE se.story_id = ?)) "
        f"AND {OUTLET} NOT IN (SELECT {OUTLET} FROM entries e JOIN story_entries se "
        "  ON se.entry_id = e.id JOIN feeds f ON f.id = e.feed_id WHERE se.story_id = ?) "
        "ORDER BY 1", (story_id, story_id))
    return [row[0] for row in rows]


async def prune_stories(db: Database) -> int:
    """Forget stories whose entries were all pruned; stories removed."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM stories WHERE NOT EXISTS "
            "(SELECT 1 FROM story_entries se WHERE se.story_id = stories.id)")
        return max(cursor.rowcount, 0)

