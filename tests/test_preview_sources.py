"""`coverage-bot preview` sees what the service sees: the database's feeds and topics
(chat edits included) when it exists, the config file's entries changed since the last
start winning as the next start would load them; and it still stores nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json

from bot.config import Config, FeedConfig, TopicConfig, load_config
from bot.model import Topic
from bot.preview import service_sources
from bot.store import feeds, topics
from bot.store.config_seeds import entry_digest
from bot.store.db import Database
from bot.store.sources import StoredSources, read_sources
from tests.fakes.feeds import FeedServer, fixture
from tests.test_cli import cli, write_config


async def _start_then_edit_in_chat(config_path, bbc_url: str) -> None:
    """What a service start loads from the file, then an admin's edits in chat."""
    config = load_config(config_path)
    db = await Database.open(config.storage.database)
    try:
        await feeds.sync_config_feeds(db, config.feeds)
        await topics.sync_config_topics(db, config.topics)
        await feeds.add_feed(db, bbc_url, "en", "BBC")  # /addfeed
        await topics.add_topic(db, Topic("scalp", "SCALP-EG", {"fr": "scalp"}))  # /addtopic
        await topics.delete_topic(db, "troops-ukraine")  # /deltopic
    finally:
        await db.close()


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_preview_lists_the_feed_and_topic_added_in_chat_and_stores_nothing(tmp_path):
    with FeedServer() as server:
        fr = server.add("/fr.xml", fixture("fr-monde.xml"))
        bbc = server.add("/en.xml", fixture("en-bbc.atom.xml"),
                         content_type="application/atom+xml")
        config = write_config(tmp_path, [(fr, "fr")])
        asyncio.run(_start_then_edit_in_chat(config, bbc))
        database = tmp_path / "cli.sqlite3"
        before = _digest(database)
        result = cli("preview", "--json", "--config", str(config), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        found = {(row["topic"], row["feed"]) for row in rows}
        assert ("oreshnik", bbc) in found  # the feed added in chat
        assert ("scalp", fr) in found  # the topic added in chat
        assert not any(row["topic"] == "troops-ukraine" for row in rows)  # deleted in chat
        assert _digest(database) == before  # nothing stored, not even a migration

        # The file's entry for the deleted topic changes: the next start takes it back,
        # and preview says so already.
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('fr = "(troupes OR soldats) AND ukraine"',
                                       'fr = "(troupes OR soldats OR militaires) AND ukraine"'),
                          encoding="utf-8")
        again = cli("preview", "--json", "--topic", "troops-ukraine", "--config", str(config),
                    cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert {json.loads(line)["topic"] for line in again.stdout.splitlines()} \
            == {"troops-ukraine"}


def test_without_a_database_the_config_is_what_preview_sees(tmp_path):
    config = Config(feeds=(FeedConfig("https://a.example/rss", "en"),),
                    topics=(TopicConfig("t", "T", {"en": "x"}),))
    assert read_sources(tmp_path / "none.sqlite3") is None
    sources = service_sources(config, None)
    assert sources.feeds == config.feeds and sources.topics == config.topics


def test_an_unchanged_config_entry_keeps_what_chat_made_of_it():
    file_topic = TopicConfig("t", "T", {"en": "x"})
    edited = TopicConfig("t", "T", {"en": "x OR y"})
    stored = StoredSources(feeds=(), topics=(edited,),
                           seeds={("topic", "t"): entry_digest(file_topic)})
    sources = service_sources(Config(topics=(file_topic,)), stored)
    assert sources.topics == (edited,)
    changed = TopicConfig("t", "T", {"en": "z"})
    assert service_sources(Config(topics=(changed,)), stored).topics == (changed,)
