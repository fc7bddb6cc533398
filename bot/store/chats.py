"""Chats (private, group, channel), their language and their topic subscriptions in SQLite."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.fanout import CoverageSetting
from bot.model import Chat, Subscription
from bot.store import outbox
from bot.store.db import Database
from bot.store.digests import move_chat
from bot.store.stories import move_chat_stories


class UnknownTopic(LookupError):
    """A subscription named a topic that does not exist."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _chat(row) -> Chat:
    return Chat(id=row["id"], type=row["type"], language=row["language"],
                title=row["title"], active=bool(row["active"]), timezone=row["timezone"])


async def ensure_chat(db: Database, chat_id: int, type: str, title: str,
                      default_language: str, now: float | None = None) -> Chat:
    """The chat's row, created with `default_language` if new.

    A chat that speaks to the bot again is active again: it was deactivated only
    because it had blocked the bot or disappeared.
    """
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO chats (id, type, title, language, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET type = excluded.type, title = excluded.title, "
            "active = 1, deactivated_reason = NULL",
            (chat_id, type, title or "", default_language, now),
        )
        row = await (await conn.execute("SELECT * FROM chats WHERE id = ?", (chat_id,))).fetchone()
    return _chat(row)


async def get_chat(db: Database, chat_id: int) -> Chat | None:
    row = await db.fetchone("SELECT * FROM chats WHERE id = ?", (chat_id,))
    return _chat(row) if row else None


async def chat_language(db: Database, chat_id: int, default_language: str) -> str:
    """The language replies and alerts use in this chat; `default_language` if unknown."""
    row = await db.fetchone("SELECT language FROM chats WHERE id = ?", (chat_id,))
    return row["language"] if row else default_language


async def set_language(db: Database, chat_id: int, language: str) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE chats SET language = ? WHERE id = ?", (language, chat_id))


def shown_timezone(stored: str | None, default_timezone: str) -> str:
    """The one rule for the zone a chat's times are shown in: the zone it set with
    /timezone, else `bot.default_timezone`."""
    return stored or default_timezone


async def chat_timezone(db: Database, chat_id: int, default_timezone: str) -> str:
    """The IANA zone times are shown in for this chat; `default_timezone` if it set none."""
    row = await db.fetchone("SELECT timezone FROM chats WHERE id = ?", (chat_id,))
    return shown_timezone(row["timezone"] if row else None, default_timezone)


async def set_timezone(db: Database, chat_id: int, timezone: str) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE chats SET timezone = ? WHERE id = ?", (timezone, chat_id))


async def chat_quiet(db: Database, chat_id: int) -> str | None:
    """The chat's quiet hours as set ("22:00-07:00"), or None."""
    row = await db.fetchone("SELECT quiet FROM chats WHERE id = ?", (chat_id,))
    return row["quiet"] if row else None


async def set_quiet(db: Database, chat_id: int, window: str | None) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE chats SET quiet = ? WHERE id = ?", (window, chat_id))


async def subscribe(db: Database, chat_id: int, topic: str, thread_id: int | None = None,
                    now: float | None = None) -> bool:
    """Subscribe a known chat; False if it already was, to the same thread.

    Subscribing again from another forum thread moves the alerts there: a topic's
    alerts go to one thread, so a group never gets the same alert twice.
    Raises UnknownTopic, also for another user's personal topic.
    """
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "SELECT id FROM topics WHERE name = ? AND (owner_id IS NULL OR owner_id = ?)",
            (topic, chat_id))
        row = await cursor.fetchone()
        if row is None:
            raise UnknownTopic(topic)
        cursor = await conn.execute(
            "INSERT INTO subscriptions (chat_id, topic_id, thread_id, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, topic_id) DO UPDATE "
            "SET thread_id = excluded.thread_id WHERE thread_id IS NOT excluded.thread_id",
            (chat_id, row[0], thread_id, now),
        )
        return cursor.rowcount > 0


@dataclass
class SubscribeOutcome:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # from another forum thread to this one


async def subscribe_many(db: Database, chat_id: int, names: list[str],
                         thread_id: int | None = None,
                         now: float | None = None) -> SubscribeOutcome:
    """Subscribe to each known topic; unknown names are reported, not fatal to the rest."""
    outcome = SubscribeOutcome()
    for name in dict.fromkeys(names):
        before = await db.fetchone(
            "SELECT s.thread_id FROM subscriptions s JOIN topics t ON t.id = s.topic_id "
            "WHERE s.chat_id = ? AND t.name = ?", (chat_id, name))
        try:
            changed = await subscribe(db, chat_id, name, thread_id, now)
        except UnknownTopic:
            outcome.unknown.append(name)
        else:
            if changed and before is not None:
                outcome.moved.append(name)
            else:
                (outcome.added if changed else outcome.already).append(name)
    return outcome


async def unsubscribe(db: Database, chat_id: int, topic: str) -> bool:
    """False if the chat was not subscribed (or the topic does not exist)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM subscriptions WHERE chat_id = ? "
            "AND topic_id = (SELECT id FROM topics WHERE name = ?)",
            (chat_id, topic),
        )
        return cursor.rowcount > 0


async def unsubscribe_all(db: Database, chat_id: int) -> int:
    """How many subscriptions were removed."""
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount


async def subscriptions(db: Database, chat_id: int) -> list[Subscription]:
    """The chat's subscriptions, by topic name."""
    rows = await db.fetchall(
        "SELECT s.chat_id, t.name, s.thread_id FROM subscriptions s "
        "JOIN topics t ON t.id = s.topic_id WHERE s.chat_id = ? ORDER BY t.name",
        (chat_id,),
    )
    return [Subscription(chat_id=row[0], topic=row[1], thread_id=row[2]) for row in rows]


async def subscriber_counts(db: Database) -> dict[str, int]:
    """Topic name -> how many active chats follow it (topics nobody follows left out)."""
    rows = await db.fetchall(
        "SELECT t.name, COUNT(*) FROM subscriptions s JOIN topics t ON t.id = s.topic_id "
        "JOIN chats c ON c.id = s.chat_id WHERE c.active = 1 GROUP BY t.name")
    return {row[0]: row[1] for row in rows}


async def subscribed_chat_count(db: Database) -> int:
    """Active chats with at least one subscription."""
    row = await db.fetchone(
        "SELECT COUNT(DISTINCT s.chat_id) FROM subscriptions s "
        "JOIN chats c ON c.id = s.chat_id WHERE c.active = 1"
    )
    return row[0]


async def migrate_chat(db: Database, old_id: int, new_id: int) -> None:
    """A group became a supergroup and got a new id: its language, subscriptions and
    queued alerts follow, in one transaction."""
    async with db.transaction() as conn:
        old = await (await conn.execute("SELECT * FROM chats WHERE id = ?", (old_id,))).fetchone()
        if old is None:
            return
        await conn.execute(
            "INSERT INTO chats (id, type, title, language, timezone, created_at) "
            "VALUES (?, 'supergroup', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (new_id, old["title"], old["language"], old["timezone"], old["created_at"]),
        )
        await conn.execute(
            "INSERT INTO subscriptions (chat_id, topic_id, thread_id, created_at) "
            "SELECT ?, topic_id, thread_id, created_at FROM subscriptions WHERE chat_id = ? "
            "ON CONFLICT (chat_id, topic_id) DO NOTHING",
            (new_id, old_id),
        )
        await outbox.follow_chat(conn, old_id, new_id)
        await move_chat(conn, old_id, new_id)
        await conn.execute(
            "UPDATE chats SET (coverage, story_outlets, story_languages) = "
            "(SELECT coverage, story_outlets, story_languages FROM chats WHERE id = ?) "
            "WHERE id = ?", (old_id, new_id))
        await move_chat_stories(conn, old_id, new_id)
        await conn.execute("DELETE FROM chats WHERE id = ?", (old_id,))


async def deactivate_chat(db: Database, chat_id: int, reason: str) -> int:
    """The chat blocked the bot or is gone: stop alerting it; its queued alerts die. Rows killed."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE chats SET active = 0, deactivated_reason = ? WHERE id = ?",
                           (reason, chat_id))
        return await outbox.kill_chat_rows(conn, chat_id, reason)


async def set_console_chats_active(db: Database, active: bool) -> None:
    """The console's virtual subscribers take alerts only while `run --console` runs."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE chats SET active = ? WHERE type = 'console'", (int(active),))


async def chat_coverage(db: Database, chat_id: int) -> str:
    row = await db.fetchone("SELECT coverage FROM chats WHERE id = ?", (chat_id,))
    return "grow" if row is None else row[0]


async def coverage_setting(db: Database, chat_id: int) -> CoverageSetting:
    """The chat's /coverage mode and conditions."""
    row = await db.fetchone("SELECT coverage, story_outlets, story_languages FROM chats "
                            "WHERE id = ?", (chat_id,))
    return CoverageSetting() if row is None else CoverageSetting(row[0], row[1], row[2])


async def set_coverage(db: Database, chat_id: int, setting: str | CoverageSetting) -> None:
    """A mode alone (`grow`, `each`) drops the chat's conditions."""
    if isinstance(setting, str):
        setting = CoverageSetting(setting)
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE chats SET coverage = ?, story_outlets = ?, story_languages = ? WHERE id = ?",
            (setting.mode, setting.outlets, setting.languages, chat_id))
