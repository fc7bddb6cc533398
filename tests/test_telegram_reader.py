"""What a reader meets in chat, through the fake Bot API: the first /start in the user's
Telegram language, a /help that fits one message, time zones, topic titles per language,
and the backtest an admin gets when a query is created or changed."""

import time

import pytest

from bot.model import Topic
from bot.store import chats, topics
from tests.fakes.alert_world import add_entry, add_feed
from tests.fakes.bot_api import telegram_length
from tests.fakes.telegram_app import ADMIN, USER, StubTranslator, running_bot

TROOPS = Topic("troops", "Western troops in Ukraine", {"en": "troops AND ukraine"})


async def test_a_french_users_first_start_is_in_french(tmp_path):
    async with running_bot(tmp_path) as bot:
        text = await bot.ask("/start", language_code="fr")
        assert text.startswith("Bonjour\u202f!") and "Un sujet est" in text
        assert (await chats.get_chat(bot.db, USER)).language == "fr"
        # Later messages in another Telegram language do not change the chosen language.
        assert "Un sujet est" in await bot.ask("/help", language_code="ru")


@pytest.mark.parametrize("command", ["/topics", "/help", "/mysubs", "/digest", "/recent"])
async def test_a_first_command_other_than_start_is_answered_in_the_users_language(
        tmp_path, command):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        text = await bot.ask(command, language_code="ru")
        assert any("\u0400" <= ch <= "\u04ff" for ch in text), text  # Cyrillic, not English
        assert (await chats.get_chat(bot.db, USER)).language == "ru"


async def test_a_group_is_not_stored_before_it_asks_for_something(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.ask("/help", chat_id=-100, chat_type="supergroup", user_id=USER,
                      language_code="ru")
        assert await chats.get_chat(bot.db, -100) is None


async def test_an_unsupported_telegram_language_gets_the_default(tmp_path):
    async with running_bot(tmp_path, default_language="ru") as bot:
        assert "Тема — это" in await bot.ask("/start", language_code="de")


@pytest.mark.parametrize("language, intro, example", [
    ("en", "A topic is", "/subscribe troops-ukraine"),
    ("fr", "Un sujet est", "/subscribe troops-ukraine"),
    ("ru", "Тема — это", "/subscribe troops-ukraine"),
])
async def test_help_in_each_language_fits_one_message(tmp_path, language, intro, example):
    async with running_bot(tmp_path) as bot:
        # the example names a topic of the deployment
        await topics.add_topic(bot.db, Topic("troops-ukraine", "Western troops in Ukraine",
                                             {"en": "troops AND ukraine"}))
        await bot.ask(f"/language {language}", chat_id=ADMIN)
        [admin_help] = await bot.send("/help", chat_id=ADMIN)
        assert telegram_length(admin_help.text) <= 4096
        assert intro in admin_help.text and example in admin_help.text
        assert 'en: (troops OR soldiers) AND ukraine' in admin_help.text  # query syntax
        assert 'fr: "storm shadow" OR scalp' in admin_help.text
        assert "ru: европ* AND нато -учения" in admin_help.text
        await bot.ask(f"/language {language}")
        user_help = await bot.ask("/help")
        assert intro in user_help and "storm shadow" not in user_help and "/addtopic" not in user_help


async def test_timezone_is_set_checked_and_used_by_recent(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        assert "UTC" in await bot.ask("/timezone")
        assert "Atlantis/Nowhere" in await bot.ask("/timezone Atlantis/Nowhere")
        assert "Asia/Tokyo" in await bot.ask("/timezone Asia/Tokyo")
        assert await chats.chat_timezone(bot.db, USER, "UTC") == "Asia/Tokyo"
        feed = await add_feed(bot.db, "https://bbc.example/rss", "en", "BBC")
        entry = await add_entry(bot.db, feed, "https://bbc.example/1", "Troops in Ukraine",
                                language="en")
        published = 1_764_000_000.0  # 2025-11-24 16:00 UTC
        await bot.db.execute("UPDATE entries SET published_at = ? WHERE id = ?",
                             (published, entry))
        await bot.db.execute("INSERT INTO matches (entry_id, topic_id, terms, matched_at) "
                             "SELECT ?, id, '[\"troops\"]', ? FROM topics", (entry, time.time()))
        assert "Nov 25, 2025, 01:00 JST · BBC" in await bot.ask("/recent troops")


async def test_addtopic_translates_the_title_and_reports_a_backtest(tmp_path):
    translator = StubTranslator(words={"fr": {"troops": "troupes", "ukraine": "ukraine"},
                                       "ru": {}})
    async with running_bot(tmp_path, translator=translator) as bot:
        feed = await add_feed(bot.db, "https://bbc.example/rss", "en", "BBC")
        for n, title in enumerate(["Troops head to Ukraine", "Ukraine: more troops",
                                   "Troops and Ukraine talks", "Ukraine grain deal",
                                   "Troops parade in Paris"]):
            await add_entry(bot.db, feed, f"https://bbc.example/{n}", title, language="en")
        old = await add_entry(bot.db, feed, "https://bbc.example/old", "Old troops in Ukraine",
                              language="en")
        await bot.db.execute("UPDATE entries SET published_at = ? WHERE id = ?",
                             (time.time() - 8 * 86400, old))
        reply = await bot.ask("/addtopic troops Troops in Ukraine\nen: troops AND ukraine",
                              chat_id=ADMIN)
        assert "en: 3 of 5" in reply, reply
        assert "• Troops head to Ukraine" in reply and "Old troops" not in reply
        assert "Title in fr: troupes in ukraine" in reply
        stored = await topics.get_topic(bot.db, "troops")
        assert stored.titles == {"en": "Troops in Ukraine", "fr": "troupes in ukraine"}
        changed = await bot.ask("/setquery troops en grain", chat_id=ADMIN)
        assert "en: 1 of 5" in changed and "• Ukraine grain deal" in changed


async def test_settitle_shows_in_topics_and_mysubs_in_the_chat_language(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        assert "Usage: /settitle" in await bot.ask("/settitle troops de Titel", chat_id=ADMIN)
        assert "refused" not in await bot.ask("/settitle troops ru Западные войска на Украине",
                                              chat_id=ADMIN)
        assert "bot's admins" in await bot.ask("/settitle troops ru x")
        await bot.ask("/language ru")
        await bot.ask("/subscribe troops")
        assert "troops — Западные войска на Украине" in await bot.ask("/topics")
        assert "troops — Западные войска на Украине" in await bot.ask("/mysubs")
        await bot.ask("/language en")
        assert "troops — Western troops in Ukraine" in await bot.ask("/mysubs")


async def test_subscribing_from_a_second_forum_thread_moves_it_and_says_so(tmp_path):
    group, member = -1007777, 3003
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        bot.api.set_member(group, member, "creator")
        first = await bot.send("/subscribe troops", chat_id=group, chat_type="supergroup",
                               user_id=member, thread_id=10)
        assert "Subscribed to" in first[0].text
        [moved] = await bot.send("/subscribe troops", chat_id=group, chat_type="supergroup",
                                 user_id=member, thread_id=20)
        assert "Now posted in this thread instead" in moved.text and "troops" in moved.text
        [sub] = await chats.subscriptions(bot.db, group)
        assert sub.thread_id == 20
        [again] = await bot.send("/subscribe troops", chat_id=group, chat_type="supergroup",
                                 user_id=member, thread_id=20)
        assert "Already subscribed" in again.text
