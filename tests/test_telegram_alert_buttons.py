"""The buttons under a delivered alert, pressed through the fake Bot API: "mute TOPIC"
unsubscribes the chat from that topic only, and in a group only for its admins."""

import telegram

from bot.alerts.deliver import Deliverer, DeliveryPolicy, TelegramSender
from bot.store import chats, outbox, topics
from tests.fakes.alert_world import (
    add_entry,
    add_feed,
    add_subscriber,
    add_topic_named,
    translate,
)
from tests.fakes.telegram_app import running_bot

GROUP = -1005555
MEMBER = 3003
GROUP_ADMIN = 4004


async def _deliver_alert(bot, chat_id: int, published_at: float | None = None):
    """One alert for topic "troops" delivered to `chat_id`, as sent. Without
    `published_at`, the feed gave no date: the entry's time is when it was first seen."""
    feed = await add_feed(bot.db, "https://lemonde.fr/rss", "fr", "Le Monde")
    entry = await add_entry(bot.db, feed, "https://lemonde.fr/1", "Des troupes en Ukraine")
    if published_at is not None:
        await bot.db.execute("UPDATE entries SET published_at = ? WHERE id = ?",
                             (published_at, entry))
    await outbox.record_matches(bot.db, entry, "https://lemonde.fr/1",
                                [("troops", ["troupes"])], 0.0)
    sender_bot = telegram.Bot(bot.api.token, base_url=bot.api.base_url)
    async with sender_bot:
        await Deliverer(bot.db, TelegramSender(sender_bot), translate,
                        DeliveryPolicy().scaled(0.05)).drain()
    [alert] = bot.api.sent_to(chat_id)
    return alert


async def _press(bot, chat_id: int, user_id: int, data: str, message_id: int) -> dict:
    before = len(bot.api.callback_answers)
    bot.api.inject_callback(chat_id, user_id, data, message_id)
    await bot.until(lambda: len(bot.api.callback_answers) > before)
    return bot.api.callback_answers[-1].params


async def test_mute_button_unsubscribes_the_private_chat_from_that_topic_only(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_topic_named(bot.db, "troops", "Western troops in Ukraine")
        await add_topic_named(bot.db, "gas", "Gas")
        await topics.set_title(bot.db, "troops", "fr", "Troupes occidentales en Ukraine")
        await add_subscriber(bot.db, 77, ["troops", "gas"], language="fr")
        alert = await _deliver_alert(bot, 77)
        [story], [button] = alert.reply_markup["inline_keyboard"]
        assert story["callback_data"].startswith("story:")
        assert button["text"] == "🔕 Couper Troupes occidentales en Ukraine"
        assert "<b>Troupes occidentales en Ukraine</b>" in alert.text  # title in the chat's language
        answer = await _press(bot, 77, 77, button["callback_data"], alert.message_id)
        assert "Coupé" in answer["text"] and "/subscribe troops" in answer["text"]
        assert [s.topic for s in await chats.subscriptions(bot.db, 77)] == ["gas"]


async def test_mute_button_is_refused_to_a_group_member_who_is_not_admin(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_topic_named(bot.db, "troops", "Western troops in Ukraine")
        await add_subscriber(bot.db, GROUP, ["troops"], language="en")
        bot.api.add_chat(GROUP, "supergroup", "Newsroom")
        bot.api.set_member(GROUP, GROUP_ADMIN, "administrator")
        alert = await _deliver_alert(bot, GROUP)
        [_, [button]] = alert.reply_markup["inline_keyboard"]
        refused = await _press(bot, GROUP, MEMBER, button["callback_data"], alert.message_id)
        assert refused["text"] == "Only this chat's admins can mute a topic."
        assert refused.get("show_alert") is True
        assert [s.topic for s in await chats.subscriptions(bot.db, GROUP)] == ["troops"]
        done = await _press(bot, GROUP, GROUP_ADMIN, button["callback_data"], alert.message_id)
        assert done["text"].startswith("Muted: Western troops in Ukraine.")
        assert await chats.subscriptions(bot.db, GROUP) == []


async def test_alert_time_is_the_publication_time_in_the_chat_zone_or_when_seen(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_topic_named(bot.db, "troops", "Western troops in Ukraine")
        await add_subscriber(bot.db, 77, ["troops"], language="en")
        await chats.set_timezone(bot.db, 77, "America/New_York")
        dated = await _deliver_alert(bot, 77, published_at=1_764_000_000.0)
        assert "Le Monde · Nov 24, 2025, 11:00 EST · fr → en" in dated.text
        assert "seen" not in dated.text


async def test_an_entry_without_a_date_says_when_it_was_seen(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_topic_named(bot.db, "troops", "Western troops in Ukraine")
        await add_subscriber(bot.db, 78, ["troops"], language="fr")
        undated = await _deliver_alert(bot, 78)
        assert "Le Monde · vu le " in undated.text and " UTC · fr → fr" not in undated.text
