"""Topics drafted by /addtopic's guided form, waiting for their author's button: the
button carries only the draft's id, the draft carries the whole topic."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.model import Topic
from bot.store.db import Database
from bot.store.topics import insert_topic

DRAFT_LIFETIME = 86400.0  # a draft nobody confirmed within a day is forgotten


@dataclass(frozen=True)
class Draft:
    id: int
    chat_id: int
    user_id: int
    topic: Topic


def _topic_json(topic: Topic) -> str:
    return json.dumps({"name": topic.name, "title": topic.title, "queries": topic.queries,
                       "titles": topic.titles, "owner_id": topic.owner_id},
                      ensure_ascii=False)


def _topic(text: str) -> Topic:
    data = json.loads(text)
    return Topic(data["name"], data["title"], dict(data["queries"]), dict(data["titles"]),
                 data["owner_id"])


async def save_draft(db: Database, chat_id: int, user_id: int, topic: Topic,
                     now: float) -> int:
    """Store a draft (and forget those past their lifetime); its id."""
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM topic_drafts WHERE created_at < ?",
                           (now - DRAFT_LIFETIME,))
        cursor = await conn.execute(
            "INSERT INTO topic_drafts (chat_id, user_id, owner_id, topic, created_at) "
            "VALUES (?, ?, ?, ?, ?)", (chat_id, user_id, topic.owner_id, _topic_json(topic), now))
        return cursor.lastrowid


async def get_draft(db: Database, draft_id: int) -> Draft | None:
    row = await db.fetchone("SELECT * FROM topic_drafts WHERE id = ?", (draft_id,))
    if row is None:
        return None
    return Draft(row["id"], row["chat_id"], row["user_id"], _topic(row["topic"]))


async def drop_draft(db: Database, draft_id: int) -> bool:
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM topic_drafts WHERE id = ?", (draft_id,))
        return cursor.rowcount > 0


async def create_from_draft(db: Database, draft: Draft, now: float,
                            owner_limit: int | None = None) -> bool:
    """The draft's topic is created and the draft forgotten, in one transaction; False
    (the draft kept) if the name was taken meanwhile. TooManyTopics past `owner_limit`."""
    async with db.transaction() as conn:
        if not await insert_topic(conn, draft.topic, origin="chat", now=now,
                                  owner_limit=owner_limit):
            return False
        await conn.execute("DELETE FROM topic_drafts WHERE id = ?", (draft.id,))
    return True
