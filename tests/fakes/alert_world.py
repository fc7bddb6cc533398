"""A real SQLite database with feeds, entries, topics and subscribed chats, for alert tests."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bot.model import Topic
from bot.store.chats import ensure_chat, subscribe
from bot.store.db import Database
from bot.store.topics import add_topic


async def open_db(folder: Path, name: str = "alerts.sqlite3") -> Database:
    return await Database.open(folder / name)


async def add_feed(db: Database, url: str, language: str, name: str = "") -> int:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO feeds (url, language, name, created_at) VALUES (?, ?, ?, ?)",
            (url, language, name, time.time()))
        return cursor.lastrowid


async def add_entry(db: Database, feed_id: int, link: str, title: str, summary: str = "",
                    language: str = "fr", key: str | None = None) -> int:
    now = time.time()
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO entries (feed_id, key, alert_key, link, title, summary, language, "
            "published_at, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (feed_id, key or link, link, link, title, summary, language, now, now, now))
        return cursor.lastrowid


async def add_topic_named(db: Database, name: str, title: str = "") -> None:
    await add_topic(db, Topic(name=name, title=title or name.title(), queries={"fr": name}))


async def add_subscriber(db: Database, chat_id: int, topics: list[str], language: str = "en",
                         type: str | None = None, thread_id: int | None = None) -> None:
    kind = type or ("private" if chat_id > 0 else "supergroup")
    await ensure_chat(db, chat_id, kind, f"chat {chat_id}", language)
    for topic in topics:
        await subscribe(db, chat_id, topic, thread_id=thread_id)


async def add_subscribers(db: Database, chat_ids: list[int], topic: str,
                          language: str = "en") -> None:
    """Many chats at once (benchmarks): one transaction, not one per chat."""
    now = time.time()
    async with db.transaction() as conn:
        row = await (await conn.execute("SELECT id FROM topics WHERE name = ?",
                                        (topic,))).fetchone()
        await conn.executemany(
            "INSERT OR IGNORE INTO chats (id, type, title, language, created_at) "
            "VALUES (?, ?, '', ?, ?)",
            [(c, "private" if c > 0 else "supergroup", language, now) for c in chat_ids])
        await conn.executemany(
            "INSERT OR IGNORE INTO subscriptions (chat_id, topic_id, created_at) VALUES (?, ?, ?)",
            [(c, row[0], now) for c in chat_ids])


@dataclass(frozen=True)
class Translation:
    """What the translator returns for an entry (bot.translation.service's shape)."""

    title: str
    summary: str
    translated: bool
    note: str | None = None


async def translate(title: str, summary: str, source: str, target: str) -> Translation:
    """A translator that always works: "[ru] " before each text."""
    return Translation(f"[{target}] {title}", f"[{target}] {summary}", True)
