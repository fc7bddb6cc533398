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
                "origin = 'config', updated_at = excluded.updated_at",
                (topic.name, topic.title, now, now),
            )
            row = await (await conn.execute(
                "SELECT id FROM topics WHERE name = ?", (topic.name,))).fetchone()
            await _write_queries(conn, row[0], dict(topic.queries))
            await _write_titles(conn, row[0], dict(topic.titles))


async def add_topic(db: Database, topic: Topic, *, origin: str = "chat",
                    now: float | None = None) -> bool:
    """Create a topic; False (and nothing written) if the name is taken."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO topics (name, title, origin, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (topic.name, topic.title, origin, now, now),
        )
        if cursor.rowcount == 0:
            return False
        await _write_queries(conn, cursor.lastrowid, dict(topic.queries))
        await _write_titles(conn, cursor.lastrowid, dict(topic.titles))
    return True


async def _edit_topic(db: Database, name: str, now: float | None, edit) -> bool:
    """Run `edit(conn, topic_id)` on a topic in one transaction; False if there is no such topic."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        row = await (await conn.execute(
            "SELECT id FROM topics WHERE name = ?", (name,))).fetchone()
        if row is None:
            return False
        await edit(conn, row[0])
        await conn.execute("UPDATE topics SET updated_at = ? WHERE id = ?", (now, row[0]))
    return True


async def set_title(db: Database, name: str, language: str, title: str,
                    now: float | None = None) -> bool:
    """Set the title a topic shows in `language`; False if there is no such topic."""
    async def edit(conn, topic_id: int) -> None:
        await _write_titles(conn, topic_id, {language: title})
    return await _edit_topic(db, name, now, edit)


async def set_query(db: Database, name: str, language: str, query: str,
                    now: float | None = None) -> bool:
    """Replace one language's query of a topic; False if there is no such topic."""
    async def edit(conn, topic_id: int) -> None:
        await conn.execute(
            "INSERT INTO topic_queries (topic_id, language, query) VALUES (?, ?, ?) "
            "ON CONFLICT (topic_id, language) DO UPDATE SET query = excluded.query",
            (topic_id, language, query))
    return await _edit_topic(db, name, now, edit)


async def delete_topic(db: Database, name: str) -> bool:
    """Delete a topic; its queries, subscriptions and matches go with it (FK cascade)."""
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM topics WHERE name = ?", (name,))
        return cursor.rowcount > 0


def _topics_from_rows(rows) -> list[Topic]:
    topics: dict[str, Topic] = {}
    for row in rows:
        topic = topics.setdefault(row["name"], Topic(row["name"], row["title"], {}, {}))
        if row["kind"] == "query":
            topic.queries[row["language"]] = row["text"]
        elif row["kind"] == "title":
            topic.titles[row["language"]] = row["text"]
    return list(topics.values())


# One row per query and per title (a topic with neither still has one row).
_SELECT_TOPICS = """
SELECT t.name, t.title, x.kind, x.language, x.text FROM topics t
LEFT JOIN (SELECT topic_id, 'query' AS kind, language, query AS text FROM topic_queries
           UNION ALL
           SELECT topic_id, 'title', language, title FROM topic_titles) x ON x.topic_id = t.id
"""


async def list_topics(db: Database) -> list[Topic]:
    """Every topic with its queries and titles, by name."""
    rows = await db.fetchall(_SELECT_TOPICS + "ORDER BY t.name, x.kind, x.language")
    return _topics_from_rows(rows)


async def get_topic(db: Database, name: str) -> Topic | None:
    rows = await db.fetchall(_SELECT_TOPICS + "WHERE t.name = ? ORDER BY x.kind, x.language",
                             (name,))
    found = _topics_from_rows(rows)
    return found[0] if found else None


async def topic_origin(db: Database, name: str) -> str | None:
    """'config' (the file wins at the next start) or 'chat'; None if no such topic."""
    row = await db.fetchone("SELECT origin FROM topics WHERE name = ?", (name,))
    return row["origin"] if row else None


async def topic_ids(db: Database) -> dict[str, int]:
    """Name -> row id; inline buttons carry the id because a name may not fit in 64 bytes."""
    rows = await db.fetchall("SELECT id, name FROM topics")
    return {row["name"]: row["id"] for row in rows}


async def topic_name(db: Database, topic_id: int) -> str | None:
    row = await db.fetchone("SELECT name FROM topics WHERE id = ?", (topic_id,))
    return row["name"] if row else None


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
