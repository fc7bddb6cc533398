"""Updates through the real application: users never wait behind each other, a chat's
commands keep their order, and the bot's own membership (`my_chat_member`) deactivates and
reactivates chats."""

import asyncio
import time

from bot.store import chats
from bot.telegram import commands
from tests.fakes.alert_world import add_topic_named
from tests.fakes.telegram_app import ADMIN, StubTranslator, running_bot

GROUP = -100500
CHANNEL = -100600


async def test_a_slow_command_in_one_chat_does_not_hold_another_users_help(tmp_path,
                                                                           monkeypatch):
    release = asyncio.Event()
    original = commands.mysubs_command

    async def slow_mysubs(update, context):
        await release.wait()  # as a hanging translator would
        await original(update, context)

    monkeypatch.setattr(commands, "mysubs_command", slow_mysubs)
    from bot.telegram import application

    monkeypatch.setitem(application.USER_COMMANDS, "mysubs", slow_mysubs)
    async with running_bot(tmp_path) as bot:
        bot.api.inject_message(1, "private", text="/mysubs")
        bot.api.inject_message(1, "private", text="/help")  # the same chat: waits its turn
        started = time.monotonic()
        assert "subscribe" in (await bot.ask("/help", chat_id=2)).lower()
        assert time.monotonic() - started < 5.0
        assert bot.api.sent_to(1) == []  # chat 1's /help keeps its place behind /mysubs
        release.set()
        await bot.until(lambda: len(bot.api.sent_to(1)) == 2)
        first, second = bot.api.texts_to(1)
        assert "subscribe" in second.lower() and first != second


async def test_removing_the_bot_deactivates_the_chat_and_adding_it_back_reactivates(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_topic_named(bot.db, "troops")
        bot.api.add_chat(GROUP, "supergroup", "Desk")
        bot.api.set_member(GROUP, 7, "administrator")
        assert "troops" in await bot.ask("/subscribe troops", chat_id=GROUP,
                                         chat_type="supergroup", user_id=7)
        bot.api.inject_my_chat_member(GROUP, "supergroup", "member", "kicked")
        await _until_active(bot, GROUP, False)
        bot.api.inject_my_chat_member(GROUP, "supergroup", "kicked", "member")
        await _until_active(bot, GROUP, True)
        assert [s.topic for s in await chats.subscriptions(bot.db, GROUP)] == ["troops"]


async def test_a_channel_that_takes_the_right_to_post_deactivates_and_giving_it_back_reactivates(
        tmp_path):
    async with running_bot(tmp_path) as bot:
        await chats.ensure_chat(bot.db, CHANNEL, "channel", "Desk", "en")
        bot.api.inject_my_chat_member(CHANNEL, "channel", "administrator", "administrator",
                                      can_post_messages=False)
        await _until_active(bot, CHANNEL, False)
        bot.api.inject_my_chat_member(CHANNEL, "channel", "administrator", "administrator",
                                      can_post_messages=True)
        await _until_active(bot, CHANNEL, True)


async def _until_active(bot, chat_id: int, active: bool) -> None:
    for _ in range(1000):
        chat = await chats.get_chat(bot.db, chat_id)
        if chat is not None and chat.active == active:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"chat {chat_id} never became {'active' if active else 'inactive'}")


class SlowTranslator(StubTranslator):
    """Answers after 1.5 s, as a busy translation provider does."""

    async def translate_query(self, query_text: str, source: str, target: str) -> str:
        await asyncio.sleep(1.5)
        return await super().translate_query(query_text, source, target)


async def test_a_slow_addtopic_says_it_is_working_on_it_then_answers(tmp_path):
    async with running_bot(tmp_path, translator=SlowTranslator()) as bot:
        first, done = await bot.send("/addtopic troops Troops\nen: troops", chat_id=ADMIN,
                                     replies=2)
        assert "Working on it" in first.text
        assert "troops" in done.text and "Working" not in done.text
