"""The two files /export sends: the feeds as OPML, the shared topics as TOML (a config's
[[feeds]] and [[topics]] in the formats other tools and the config read)."""

from __future__ import annotations

from bot.feeds.opml import OpmlOutline, write_opml
from bot.store import feeds, topics
from bot.store.db import Database
from bot.topics.toml_file import write_topics_toml


async def export_files(db: Database) -> tuple[bytes, int, bytes, int]:
    """(OPML of the feeds, how many, TOML of the topics, how many)."""
    all_feeds = await feeds.list_feeds(db)
    all_topics = await topics.visible_topics(db, None)  # personal topics stay their own
    opml = write_opml([OpmlOutline(f.url, f.name, f.language) for f in all_feeds])
    return opml, len(all_feeds), write_topics_toml(all_topics), len(all_topics)
