"""Topics, chats and subscriptions as stored: what commands and delivery rely on."""

import json

import pytest

from bot.config import TopicConfig
from bot.model import Subscription, Topic
from bot.store import chats, topics
from bot.store.db import Database


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


TROOPS = Topic("troops", "Troops in Ukraine", {"en": "troops AND ukraine", "fr": "troupes"})


async def test_config_topics_are_added_then_updated_by_name(db):
    await topics.sync_config_topics(db, [TopicConfig("troops", "Troops", {"en": "troops"})])
    await topics.sync_config_topics(db, [TopicConfig("troops", "Troops!", {"fr": "troupes"}),
                                         TopicConfig("gas", "Gas", {"ru": "газ"})])
    assert await topics.list_topics(db) == [
        Topic("gas", "Gas", {"ru": "газ"}),
        Topic("troops", "Troops!", {"fr": "troupes"}),
    ]
    assert await topics.topic_origin(db, "troops") == "config"


async def test_chat_topics_survive_a_config_sync(db):
    assert await topics.add_topic(db, TROOPS)
    await topics.sync_config_topics(db, [TopicConfig("gas", "Gas", {"ru": "газ"})])
    assert await topics.get_topic(db, "troops") == TROOPS
    assert await topics.topic_origin(db, "troops") == "chat"


async def test_adding_a_taken_name_changes_nothing(db):
    assert await topics.add_topic(db, TROOPS)
    assert not await topics.add_topic(db, Topic("troops", "Other", {"ru": "войска"}))
    assert await topics.get_topic(db, "troops") == TROOPS


async def test_set_query_replaces_one_language(db):
    await topics.add_topic(db, TROOPS)
    assert await topics.set_query(db, "troops", "en", "soldiers")
    assert await topics.set_query(db, "troops", "ru", "войска")
    assert (await topics.get_topic(db, "troops")).queries == {
        "en": "soldiers", "fr": "troupes", "ru": "войска"}
    assert not await topics.set_query(db, "nope", "en", "x")


async def test_deleting_a_topic_removes_its_subscriptions(db):
    await topics.add_topic(db, TROOPS)
    await chats.ensure_chat(db, 42, "private", "", "en")
    await chats.subscribe(db, 42, "troops")
    assert await topics.delete_topic(db, "troops")
    assert await chats.subscriptions(db, 42) == []
    assert not await topics.delete_topic(db, "troops")


async def test_new_chat_gets_default_language_and_keeps_its_choice(db):
    chat = await chats.ensure_chat(db, 42, "private", "Ann", "fr")
    assert chat.language == "fr"
    await chats.set_language(db, 42, "ru")
    assert (await chats.ensure_chat(db, 42, "private", "Ann", "fr")).language == "ru"
    assert await chats.chat_language(db, 42, "en") == "ru"
    assert await chats.chat_language(db, 7, "en") == "en"


async def test_a_returning_chat_is_active_again(db):
    await chats.ensure_chat(db, 42, "private", "", "en")
    async with db.transaction() as conn:
        await conn.execute("UPDATE chats SET active = 0, deactivated_reason = 'blocked'")
    assert (await chats.ensure_chat(db, 42, "private", "", "en")).active


async def test_subscribe_is_idempotent_and_a_thread_moves_it(db):
    await topics.add_topic(db, TROOPS)
    await chats.ensure_chat(db, -100, "supergroup", "Desk", "en")
    assert await chats.subscribe(db, -100, "troops", thread_id=None)
    assert not await chats.subscribe(db, -100, "troops", thread_id=None)
    assert await chats.subscribe(db, -100, "troops", thread_id=7)
    assert await chats.subscriptions(db, -100) == [Subscription(-100, "troops", 7)]
    with pytest.raises(chats.UnknownTopic):
        await chats.subscribe(db, -100, "nope")


async def test_unsubscribe_one_and_all(db):
    await topics.add_topic(db, TROOPS)
    await topics.add_topic(db, Topic("gas", "Gas", {"en": "gas"}))
    await chats.ensure_chat(db, 42, "private", "", "en")
    for name in ("troops", "gas"):
        await chats.subscribe(db, 42, name)
    assert await chats.unsubscribe(db, 42, "gas")
    assert not await chats.unsubscribe(db, 42, "gas")
    assert await chats.subscribed_chat_count(db) == 1
    assert await chats.unsubscribe_all(db, 42) == 1
    assert await chats.subscribed_chat_count(db) == 0


async def test_inactive_chats_are_not_counted_as_subscribed(db):
    await topics.add_topic(db, TROOPS)
    for chat_id in (1, 2):
        await chats.ensure_chat(db, chat_id, "private", "", "en")
        await chats.subscribe(db, chat_id, "troops")
    async with db.transaction() as conn:
        await conn.execute("UPDATE chats SET active = 0 WHERE id = 2")
    assert await chats.subscribed_chat_count(db) == 1


async def test_migrated_group_keeps_language_and_subscriptions(db):
    await topics.add_topic(db, TROOPS)
    await chats.ensure_chat(db, -5, "group", "Desk", "ru")
    await chats.subscribe(db, -5, "troops")
    await chats.migrate_chat(db, -5, -1005)
    assert await chats.get_chat(db, -5) is None
    assert (await chats.get_chat(db, -1005)).language == "ru"
    assert await chats.subscriptions(db, -1005) == [Subscription(-1005, "troops", None)]


async def test_recent_matches_newest_first(db):
    await topics.add_topic(db, TROOPS)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO feeds (id, url, language, name, created_at) "
            "VALUES (1, 'http://x/rss', 'fr', 'Le Monde', 0)")
        for i in (1, 2, 3):
            await conn.execute(
                "INSERT INTO entries (id, feed_id, key, alert_key, link, title, summary, "
                "language, published_at, first_seen_at, last_seen_at) "
                "VALUES (?, 1, ?, ?, ?, ?, '', 'fr', ?, 0, 0)",
                (i, f"k{i}", f"http://x/{i}", f"http://x/{i}", f"Titre {i}", 1000.0 * i))
            await conn.execute(
                "INSERT INTO matches (entry_id, topic_id, terms, matched_at) "
                "VALUES (?, (SELECT id FROM topics WHERE name = 'troops'), ?, ?)",
                (i, json.dumps(["troupes"]), 1000.0 * i))
    found = await topics.recent_matches(db, "troops", 2)
    assert [m.title for m in found] == ["Titre 3", "Titre 2"]
    assert found[0].feed_name == "Le Monde" and found[0].terms == ("troupes",)
    assert await topics.recent_matches(db, "gas", 5) == []


async def test_topic_ids_round_trip(db):
    await topics.add_topic(db, TROOPS)
    ids = await topics.topic_ids(db)
    assert await topics.topic_name(db, ids["troops"]) == "troops"
    assert await topics.topic_name(db, 999) is None
