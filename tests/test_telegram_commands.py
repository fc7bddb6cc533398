"""Commands for everyone, end to end: python-telegram-bot long-polls the fake Bot API,
users' messages are injected, and what the bot answers and stores is checked."""

import asyncio
import json

from bot.model import Subscription, Topic
from bot.store import chats, topics
from tests.fakes.bot_api import BOT_USERNAME
from tests.fakes.telegram_app import ADMIN, USER, running_bot

TROOPS = Topic("troops", "Western troops in Ukraine", {"en": "troops AND ukraine"})
GAS = Topic("gas", "Gas supplies", {"en": "gas"})
GROUP = -1001234
MEMBER = 3003


async def with_topics(bot, *items):
    for topic in items or (TROOPS, GAS):
        await topics.add_topic(bot.db, topic)


async def test_start_greets_and_lists_commands_and_menus_are_published(tmp_path):
    async with running_bot(tmp_path) as bot:
        text = await bot.ask("/start")
        assert "Hello" in text and "/subscribe" in text and "/addtopic" not in text
        await bot.until(lambda: len(bot.api.commands) == 4 + 4)  # everyone's + the admin's
        for lang in ("", "en", "fr", "ru"):
            names = [c["command"] for c in bot.api.commands_for(lang)]
            assert names[:3] == ["start", "help", "topics"] and "addtopic" not in names
        assert "Все темы" in json.dumps(bot.api.commands_for("ru"), ensure_ascii=False)
        admin_menus = [names for (lang, scope), names in bot.api.commands.items()
                       if json.loads(scope).get("chat_id") == ADMIN]
        assert len(admin_menus) == 4
        assert all("addtopic" in [c["command"] for c in menu] for menu in admin_menus)
        assert (await chats.get_chat(bot.db, USER)).language == "en"


async def test_admins_see_admin_commands_in_help(tmp_path):
    async with running_bot(tmp_path) as bot:
        assert "/addtopic" in await bot.ask("/help", chat_id=ADMIN)


async def test_language_changes_the_reply_language(tmp_path):
    async with running_bot(tmp_path) as bot:
        await with_topics(bot)
        assert "русском" in await bot.ask("/language ru")
        assert "Подписка оформлена: troops" in await bot.ask("/subscribe troops")
        assert "Язык: русский" in await bot.ask("/mysubs")
        assert "français" in await bot.ask("/language fr")
        assert (await chats.get_chat(bot.db, USER)).language == "fr"


async def test_wrong_arguments_and_unknown_commands_get_a_usage_line(tmp_path):
    async with running_bot(tmp_path) as bot:
        assert (await bot.ask("/language de")).startswith("Usage: /language")
        assert (await bot.ask("/subscribe")).startswith("Usage: /subscribe")
        assert (await bot.ask("/unsubscribe")).startswith("Usage: /unsubscribe")
        assert (await bot.ask("/recent troops 500")).startswith("Usage: /recent")
        assert "Unknown command" in await bot.ask("/frobnicate")
        assert "Unknown topic: nope" in await bot.ask("/subscribe nope")


async def test_subscribe_several_then_unsubscribe_one_and_all(tmp_path):
    async with running_bot(tmp_path) as bot:
        await with_topics(bot)
        reply = await bot.ask("/subscribe troops gas nope")
        assert "Subscribed to: troops, gas" in reply and "Unknown topic: nope" in reply
        assert "Already subscribed to: gas" in await bot.ask("/subscribe gas")
        assert "• gas — Gas supplies" in await bot.ask("/mysubs")
        assert "Unsubscribed from gas" in await bot.ask("/unsubscribe gas")
        assert "Not subscribed to gas" in await bot.ask("/unsubscribe gas")
        assert "(1)" in await bot.ask("/unsubscribe all")
        assert await chats.subscriptions(bot.db, USER) == []


async def test_topics_buttons_subscribe_and_unsubscribe_in_place(tmp_path):
    async with running_bot(tmp_path) as bot:
        await with_topics(bot)
        [listing] = await bot.send("/topics")
        assert "troops — Western troops in Ukraine" in listing.text
        buttons = [row[0] for row in listing.reply_markup["inline_keyboard"]]
        troops = next(b for b in buttons if b["text"].endswith("troops"))
        assert troops["text"].startswith("➕")

        bot.api.inject_callback(USER, USER, troops["callback_data"], listing.message_id)
        await bot.until(lambda: len(bot.api.edits) == 1)
        assert await chats.subscriptions(bot.db, USER) == [Subscription(USER, "troops")]
        edited = bot.api.edits[0].params
        assert edited["message_id"] == listing.message_id
        new_buttons = [row[0] for row in edited["reply_markup"]["inline_keyboard"]]
        unsubscribe = next(b for b in new_buttons if b["text"].endswith("troops"))
        assert unsubscribe["text"].startswith("✅")
        assert bot.api.callback_answers[0].params["text"] == "Subscribed to troops."

        bot.api.inject_callback(USER, USER, unsubscribe["callback_data"], listing.message_id)
        await bot.until(lambda: len(bot.api.edits) == 2)
        assert await chats.subscriptions(bot.db, USER) == []


async def test_in_a_group_only_its_admins_subscribe(tmp_path):
    async with running_bot(tmp_path) as bot:
        await with_topics(bot)
        refused = await bot.ask("/subscribe troops", chat_id=GROUP, chat_type="supergroup",
                                user_id=MEMBER)
        assert "only its admins" in refused
        assert await chats.subscriptions(bot.db, GROUP) == []

        bot.api.set_member(GROUP, MEMBER, "administrator")
        assert "Subscribed to: troops" in await bot.ask(
            "/subscribe troops", chat_id=GROUP, chat_type="supergroup", user_id=MEMBER)
        assert await chats.subscriptions(bot.db, GROUP) == [Subscription(GROUP, "troops")]


async def test_in_a_group_a_member_cannot_press_the_buttons(tmp_path):
    async with running_bot(tmp_path) as bot:
        await with_topics(bot)
        [listing] = await bot.send("/topics", chat_id=GROUP, chat_type="supergroup",
                                   user_id=MEMBER)
        data = listing.reply_markup["inline_keyboard"][0][0]["callback_data"]
        bot.api.inject_callback(GROUP, MEMBER, data, listing.message_id)
        await bot.until(lambda: bot.api.callback_answers)
        assert bot.api.callback_answers[0].params["show_alert"] is True
        assert await chats.subscriptions(bot.db, GROUP) == [] and bot.api.edits == []


async def test_group_language_is_for_admins_too(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.ask("/language fr", chat_id=GROUP, chat_type="supergroup", user_id=MEMBER)
        assert await chats.get_chat(bot.db, GROUP) is None


async def test_subscribing_inside_a_forum_thread_routes_alerts_there(tmp_path):
    async with running_bot(tmp_path) as bot:
        await with_topics(bot)
        bot.api.set_member(GROUP, MEMBER, "creator")
        [answer] = await bot.send("/subscribe troops", chat_id=GROUP, chat_type="supergroup",
                                  user_id=MEMBER, thread_id=77)
        assert answer.message_thread_id == 77 and "thread" in answer.text
        assert await chats.subscriptions(bot.db, GROUP) == [Subscription(GROUP, "troops", 77)]


async def test_unknown_commands_in_groups_are_answered_only_when_addressed_to_us(tmp_path):
    async with running_bot(tmp_path) as bot:
        bot.api.inject_message(GROUP, "supergroup", MEMBER, "/otherbots_command")
        assert "Unknown command" in await bot.ask(f"/frob@{BOT_USERNAME}", chat_id=GROUP,
                                                  chat_type="supergroup", user_id=MEMBER)
        assert len(bot.api.sent_to(GROUP)) == 1


async def test_recent_lists_the_last_matches(tmp_path):
    async with running_bot(tmp_path) as bot:
        await with_topics(bot)
        async with bot.db.transaction() as conn:
            await conn.execute("INSERT INTO feeds (id, url, language, name, created_at) "
                               "VALUES (1, 'http://lemonde.test/rss', 'fr', 'Le Monde', 0)")
            for i in (1, 2, 3):
                await conn.execute(
                    "INSERT INTO entries (id, feed_id, key, alert_key, link, title, summary, "
                    "language, published_at, first_seen_at, last_seen_at) "
                    "VALUES (?, 1, ?, ?, ?, ?, '', 'fr', 0, 0, 0)",
                    (i, f"k{i}", f"http://lemonde.test/{i}", f"http://lemonde.test/{i}",
                     f"Des troupes {i}"))
                await conn.execute(
                    "INSERT INTO matches (entry_id, topic_id, terms, matched_at) VALUES "
                    "(?, (SELECT id FROM topics WHERE name = 'troops'), '[\"troops\"]', ?)",
                    (i, 1000.0 * i))
        text = await bot.ask("/recent troops 2")
        assert "Des troupes 3" in text and "Des troupes 2" in text and "troupes 1" not in text
        assert "Le Monde [fr]" in text and "http://lemonde.test/3" in text
        assert "No matches for gas" in await bot.ask("/recent gas")


async def test_a_group_that_becomes_a_supergroup_keeps_its_subscriptions(tmp_path):
    async with running_bot(tmp_path) as bot:
        await with_topics(bot)
        await chats.ensure_chat(bot.db, -55, "group", "Desk", "fr")
        await chats.subscribe(bot.db, -55, "troops")
        bot.api._push("message", {"message_id": 9, "date": 0, "migrate_to_chat_id": GROUP,
                                  "chat": {"id": -55, "type": "group", "title": "Desk"},
                                  "from": {"id": MEMBER, "is_bot": False, "first_name": "M"}})

        async def moved():
            return await chats.subscriptions(bot.db, GROUP)

        for _ in range(3000):  # a hang guard: it moves within a second when not busy
            if await moved():
                break
            await asyncio.sleep(0.01)
        assert await moved() == [Subscription(GROUP, "troops")]
        assert (await chats.get_chat(bot.db, GROUP)).language == "fr"


async def test_an_unexpected_failure_is_answered_with_one_line(tmp_path):
    async with running_bot(tmp_path) as bot:
        async def broken() -> None:
            raise RuntimeError("matcher reload failed")

        bot.context.on_topics_changed = broken
        reply = await bot.ask("/addtopic gas Gas\nen: gas", chat_id=ADMIN)
        assert reply == "Sorry, something went wrong. Please try again later."
