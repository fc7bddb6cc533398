"""Channels are managed from a private chat by an admin of the channel, and only where the
bot may post; both are asked of the (fake) Bot API at the moment of the change."""

import pytest

from bot.model import Subscription, Topic
from bot.store import chats, topics
from tests.fakes.bot_api import BOT_ID
from tests.fakes.telegram_app import USER, running_bot

CHANNEL = -1009000
TROOPS = Topic("troops", "Western troops in Ukraine", {"en": "troops AND ukraine"})


async def channel_bot(bot, user_status="administrator", **bot_rights):
    await topics.add_topic(bot.db, TROOPS)
    bot.api.add_chat(CHANNEL, "channel", "Desk News", username="desknews")
    bot.api.set_member(CHANNEL, BOT_ID, "administrator", **bot_rights)
    bot.api.set_member(CHANNEL, USER, user_status)


async def test_a_channel_admin_subscribes_the_channel_from_a_private_chat(tmp_path):
    async with running_bot(tmp_path) as bot:
        await channel_bot(bot)
        assert await bot.ask("/subscribe troops @desknews") == \
            "@desknews is subscribed to: troops."
        assert await chats.subscriptions(bot.db, CHANNEL) == [Subscription(CHANNEL, "troops")]
        channel = await chats.get_chat(bot.db, CHANNEL)
        assert (channel.type, channel.title) == ("channel", "Desk News")
        assert await chats.subscriptions(bot.db, USER) == []

        assert await bot.ask("/language ru @desknews") == \
            "Alerts in @desknews are now in Russian."
        assert (await chats.get_chat(bot.db, CHANNEL)).language == "ru"
        # the private chat keeps its own language (stored at first contact, in English here)
        assert (await chats.get_chat(bot.db, USER)).language == "en"

        assert "unsubscribed from troops" in await bot.ask("/unsubscribe troops @desknews")
        assert await chats.subscriptions(bot.db, CHANNEL) == []


async def test_the_channel_creator_may_too_and_by_numeric_id(tmp_path):
    async with running_bot(tmp_path) as bot:
        await channel_bot(bot, user_status="creator")
        assert "subscribed" in await bot.ask(f"/subscribe troops {CHANNEL}")
        assert await chats.subscriptions(bot.db, CHANNEL) == [Subscription(CHANNEL, "troops")]


@pytest.mark.parametrize("user_status, bot_rights, expected", [
    ("member", {}, "Only an admin of @desknews can change its settings (subscriptions, language, time zone, digests)."),
    ("left", {}, "Only an admin of @desknews can change its settings (subscriptions, language, time zone, digests)."),
    ("administrator", {"can_post_messages": False}, "I can't post in @desknews"),
])
async def test_channel_subscription_is_refused_and_nothing_changes(tmp_path, user_status,
                                                                   bot_rights, expected):
    async with running_bot(tmp_path) as bot:
        await channel_bot(bot, user_status, **bot_rights)
        assert expected in await bot.ask("/subscribe troops @desknews")
        assert expected in await bot.ask("/language fr @desknews")
        assert await chats.get_chat(bot.db, CHANNEL) is None


async def test_a_bot_that_is_only_a_member_cannot_post(tmp_path):
    async with running_bot(tmp_path) as bot:
        await channel_bot(bot)
        bot.api.set_member(CHANNEL, BOT_ID, "member")
        assert "I can't post in @desknews" in await bot.ask("/subscribe troops @desknews")
        assert await chats.get_chat(bot.db, CHANNEL) is None


async def test_unknown_channels_groups_and_channel_forms_in_groups_are_refused(tmp_path):
    async with running_bot(tmp_path) as bot:
        await channel_bot(bot)
        bot.api.add_chat(-1007, "supergroup", "A group", username="agroup")
        assert "can't find the channel @nowhere" in await bot.ask("/subscribe troops @nowhere")
        assert "@agroup is not a channel" in await bot.ask("/subscribe troops @agroup")
        assert "in a private chat" in await bot.ask(
            "/subscribe troops @desknews", chat_id=-1007, chat_type="supergroup", user_id=USER)
        assert await chats.get_chat(bot.db, CHANNEL) is None
