"""The feeds and topics the service holds, read without opening the database for writing
(no migration, no lock): for `coverage-bot preview`, which stores nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import FeedConfig, TopicConfig
from bot.store.db import DatabaseError


@dataclass(frozen=True)
class StoredSources:
    feeds: tuple[FeedConfig, ...]
    topics: tuple[TopicConfig, ...]
    # (kind, name) -> the digest of the config file entry as seen at the last start
    seeds: dict[tuple[str, str], str] = field(default_factory=dict)


def read_sources(path: str | Path) -> StoredSources | None:
    """The database's feeds, topics and config seeds; None when there is no database
    yet (or one the service never started on). DatabaseError if it cannot be read."""
    file = Path(path).expanduser()
    if not file.exists():
        return None
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open database {path}: {exc}") from None
    conn.row_factory = sqlite3.Row
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if not {"feeds", "topics", "topic_queries"} <= tables:
            return None
        feeds = tuple(FeedConfig(row["url"], row["language"], row["name"], row["interval_s"])
                      for row in conn.execute(
                          "SELECT url, language, name, interval_s FROM feeds ORDER BY id"))
        queries: dict[int, dict[str, str]] = {}
        for row in conn.execute("SELECT topic_id, language, query FROM topic_queries"):
            queries.setdefault(row["topic_id"], {})[row["language"]] = row["query"]
        titles: dict[int, dict[str, str]] = {}
        if "topic_titles" in tables:
            for row in conn.execute("SELECT topic_id, language, title FROM topic_titles"):
                titles.setdefault(row["topic_id"], {})[row["language"]] = row["title"]
        topics = tuple(TopicConfig(row["name"], row["title"], queries.get(row["id"], {}),
                                   titles.get(row["id"], {}))
                       for row in conn.execute("SELECT id, name, title FROM topics ORDER BY name"))
        seeds = {}
        if "config_seeds" in tables:
            seeds = {(row["kind"], row["name"]): row["digest"]
                     for row in conn.execute("SELECT kind, name, digest FROM config_seeds")}
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot read database {path}: {exc}") from None
    finally:
        conn.close()
    return StoredSources(feeds, topics, seeds)
