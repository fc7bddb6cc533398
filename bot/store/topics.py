"""Topics and their per-language queries in SQLite, plus each topic's recent matches."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.model import Topic
from bot.store.config_seeds import entry_changed
from bot.store.db import Database


class TopicLike(Protocol):
    """A `Topic` or a config `TopicConfig`: both carry these four."""

    name: str
    title: str
    queries: object  # Mapping[str, str]
    titles: object  # Mapping[str, str]: language -> title shown in it


@dataclass(frozen=True)
class RecentMatch:
    """One line of `/recent`: an entry a topic matched, newest first."""

    title: str
    link: str
    feed_name: str
    language: str
    published: datetime
    matched_at: datetime
    terms: tuple[str, ...]
    entry_id: int = 0


async def _write_queries(conn, topic_id: int, queries: dict[str, str]) -> None:
    await conn.execute("DELETE FROM topic_queries WHERE topic_id = ?", (topic_id,))
    await conn.executemany(
        "INSERT INTO topic_queries (topic_id, language, query) VALUES (?, ?, ?)",
        [(topic_id, language, query) for language, query in sorted(queries.items())],
    )


async def _write_titles(conn, topic_id: int, titles: dict[str, str]) -> None:
    await conn.executemany(
        "INSERT INTO topic_titles (topic_id, language, title) VALUES (?, ?, ?) "
        "ON CONFLICT (topic_id, language) DO UPDATE SET title = excluded.title",
        [(topic_id, language, title) for language, title in sorted(titles.items()) if title],
    )


async def sync_config_topics(db: Database, topics: Iterable[TopicLike],
                             now: float | None = None) -> None:
    """Load the config file's topics: add new names, update title and queries of known ones.

    Only topics whose file entry is new or changed since the previous start: the
    others keep what admins changed in chat, and one deleted in chat stays deleted
    (`store/config_seeds.py`). Topics created in chat and not in the file are left alone.
    """
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        for topic in topics:
            if not await entry_changed(conn, "topic", topic.name, topic):
                continue
            await conn.execute(
                "INSERT INTO topics (name, title, origin, created_at, updated_at) "
                "VALUES (?, ?, 'config', ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET title = excluded.title, "
                "origin = 'config', owner_id = NULL, updated_at = excluded.updated_at",
                (topic.name, topic.title, now, now),
            )
            row = await (await conn.execute(
                "SELECT id FROM topics WHERE name = ?", (topic.name,))).fetchone()
            await _write_queries(conn, row[0], dict(topic.queries))
            await _write_titles(conn, row[0], dict(topic.titles))


class TooManyTopics(Exception):
    """The owner already has the most personal topics allowed."""


async def insert_topic(conn, topic: Topic, *, origin: str, now: float,
                       owner_limit: int | None = None) -> bool:
    """Create `topic` inside the caller's transaction; False if the name is taken.
    TooManyTopics when its owner already has `owner_limit` topics."""
    if topic.owner_id is not None and owner_limit is not None:
        row = await (await conn.execute("SELECT COUNT(*) FROM topics WHERE owner_id = ?",
                                        (topic.owner_id,))).fetchone()
        if row[0] >= owner_limit:
            raise TooManyTopics(topic.owner_id)
    cursor = await conn.execute(
        "INSERT INTO topics (name, title, origin, owner_id, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        (topic.name, topic.title, origin, topic.owner_id, now, now),
    )
    if cursor.rowcount == 0:
        return False
    await _write_queries(conn, cursor.lastrowid, dict(topic.queries))
    await _write_titles(conn, cursor.lastrowid, dict(topic.titles))
    return True


async def add_topic(db: Database, topic: Topic, *, origin: str = "chat",
                    now: float | None = None, owner_limit: int | None = None) -> bool:
    """Create a topic; False (and nothing written) if the name is taken.
    TooManyTopics when a personal topic's owner already has `owner_limit`."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        return await insert_topic(conn, topic, origin=origin, now=now, owner_limit=owner_limit)


# Edits name a topic together with whose it is: `owner` None means a shared topic, an id
# that user's personal topic; a topic of another owner is, to the editor, no topic at all.
_OWNED = "name = ? AND owner_id IS ?"


async def _edit_topic(db: Database, name: str, now: float | None, edit,
                      owner: int | None = None) -> bool:
    """Run `edit(conn, topic_id)` on a topic in one transaction; False if there is no such
    topic of `owner`."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        row = await (await conn.execute(
            f"SELECT id FROM topics WHERE {_OWNED}", (name, owner))).fetchone()
        if row is None:
            return False
        await edit(conn, row[0])
        await conn.execute("UPDATE topics SET updated_at = ? WHERE id = ?", (now, row[0]))
    return True


async def set_title(db: Database, name: str, language: str, title: str,
                    now: float | None = None, *, owner: int | None = None) -> bool:
    """Set the title a topic shows in `language`; False if there is no such topic."""
    async def edit(conn, topic_id: int) -> None:
        await _write_titles(conn, topic_id, {language: title})
    return await _edit_topic(db, name, now, edit, owner)


async def set_query(db: Database, name: str, language: str, query: str,
                    now: float | None = None, *, owner: int | None = None) -> bool:
    """Replace one language's query of a topic; False if there is no such topic."""
    async def edit(conn, topic_id: int) -> None:
        await conn.execute(
            "INSERT INTO topic_queries (topic_id, language, query) VALUES (?, ?, ?) "
            "ON CONFLICT (topic_id, language) DO UPDATE SET query = excluded.query",
            (topic_id, language, query))
    return await _edit_topic(db, name, now, edit, owner)


async def delete_topic(db: Database, name: str, *, owner: int | None = None) -> bool:
    """Delete a topic of `owner` (None: a shared one); its queries, subscriptions and
    matches go with it (FK cascade)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(f"DELETE FROM topics WHERE {_OWNED}", (name, owner))
        return cursor.rowcount > 0


def _topics_from_rows(rows) -> list[Topic]:
    topics: dict[str, Topic] = {}
    for row in rows:
        topic = topics.setdefault(row["name"], Topic(row["name"], row["title"], {}, {},
                                                     row["owner_id"]))
        if row["kind"] == "query":
            topic.queries[row["language"]] = row["text"]
        elif row["kind"] == "title":
            topic.titles[row["language"]] = row["text"]
    return list(topics.values())


# One row per query and per title (a topic with neither still has one row).
_SELECT_TOPICS = """
SELECT t.name, t.title, t.owner_id, x.kind, x.language, x.text FROM topics t
LEFT JOIN (SELECT topic_id, 'query' AS kind, language, query AS text FROM topic_queries
           UNION ALL
           SELECT topic_id, 'title', language, title FROM topic_titles) x ON x.topic_id = t.id
"""


# What a chat sees: shared topics, and in a private chat its user's own.
_VISIBLE = "(t.owner_id IS NULL OR t.owner_id = ?)"
EVERY_CHAT = object()  # get_topic's default: the topic whoever owns it (matching, alerts)


async def list_topics(db: Database) -> list[Topic]:
    """Every topic with its queries and titles, by name, personal ones included."""
    rows = await db.fetchall(_SELECT_TOPICS + "ORDER BY t.name, x.kind, x.language")
    return _topics_from_rows(rows)


async def visible_topics(db: Database, chat_id: int | None) -> list[Topic]:
    """The topics `chat_id` may see and subscribe to, by name; None: the shared ones."""
    rows = await db.fetchall(
        _SELECT_TOPICS + f"WHERE {_VISIBLE} ORDER BY t.name, x.kind, x.language", (chat_id,))
    return _topics_from_rows(rows)


async def get_topic(db: Database, name: str, visible_to: int | None | object = EVERY_CHAT
                    ) -> Topic | None:
    """The topic called `name`; with `visible_to`, only if that chat may see it."""
    where, params = "WHERE t.name = ? ", (name,)
    if visible_to is not EVERY_CHAT:
        where, params = f"WHERE t.name = ? AND {_VISIBLE} ", (name, visible_to)
    rows = await db.fetchall(_SELECT_TOPICS + where + "ORDER BY x.kind, x.language", params)
    found = _topics_from_rows(rows)
    return found[0] if found else None


async def owned_count(db: Database, owner: int) -> int:
    """How many personal topics `owner` has."""
    row = await db.fetchone("SELECT COUNT(*) FROM topics WHERE owner_id = ?", (owner,))
    return row[0]


async def topic_origin(db: Database, name: str) -> str | None:
    """'config' (the file wins at the next start) or 'chat'; None if no such topic."""
    row = await db.fetchone("SELECT origin FROM topics WHERE name = ?", (name,))
    return row["origin"] if row else None


async def topic_ids(db: Database) -> dict[str, int]:
    """Name -> row id; inline buttons carry the id because a name may not fit in 64 bytes."""
    rows = await db.fetchall("SELECT id, name FROM topics")
    return {row["name"]: row["id"] for row in rows}


async def topic_name(db: Database, topic_id: int,
                     visible_to: int | None | object = EVERY_CHAT) -> str | None:
    """The name of topic `topic_id`; with `visible_to`, only if that chat may see it."""
    row = await db.fetchone("SELECT name, owner_id FROM topics WHERE id = ?", (topic_id,))
    if row is None or visible_to is not EVERY_CHAT and row["owner_id"] not in (None, visible_to):
        return None
    return row["name"]


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def recent_matches(db: Database, topic: str, n: int = 5) -> list[RecentMatch]:
    """The last `n` entries the topic matched, newest first."""
    rows = await db.fetchall(
        "SELECT e.id, e.title, e.link, e.language, e.published_at, f.name AS feed_name, f.url, "
        "m.matched_at, m.terms FROM matches m "
        "JOIN topics t ON t.id = m.topic_id "
        "JOIN entries e ON e.id = m.entry_id "
        "JOIN feeds f ON f.id = e.feed_id "
        "WHERE t.name = ? ORDER BY m.matched_at DESC, m.id DESC LIMIT ?",
        (topic, n),
    )
    found = []
    for row in rows:
        try:
            terms = tuple(str(term) for term in json.loads(row["terms"]))
        except (ValueError, TypeError):
            terms = ()
        found.append(RecentMatch(
            title=row["title"], link=row["link"], feed_name=row["feed_name"] or row["url"],
            language=row["language"], published=_utc(row["published_at"]),
            matched_at=_utc(row["matched_at"]), terms=terms, entry_id=row["id"],
        ))
    return found
