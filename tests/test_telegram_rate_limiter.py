"""Every Bot API call spends one Telegram budget: replies, files and alerts together stay
within Telegram's limits, and a 429 or a network error delays a message, never drops it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import telegram.ext
from telegram.request import HTTPXRequest

from bot.alerts.deliver import Deliverer, DeliveryPolicy, TelegramSender
from bot.store import outbox
from bot.telegram.budget import Budget, TelegramLimits
from bot.telegram.rate_limiter import BudgetRateLimiter
from tests.fakes.alert_world import add_entry, add_feed, add_subscriber, add_topic_named
from tests.fakes.bot_api import Limits
from tests.fakes.telegram_app import ADMIN, USER, running_bot

FAST = TelegramLimits().scaled(0.05)


def limiter(limits: TelegramLimits = FAST) -> BudgetRateLimiter:
    return BudgetRateLimiter(Budget(limits), retry_base=0.05)


async def test_a_429_on_the_export_file_delays_it_and_both_files_arrive_once(tmp_path):
    async with running_bot(tmp_path, rate_limiter=limiter()) as bot:
        bot.api.fail_next("sendDocument", 429, "Too Many Requests: retry after 1",
                          retry_after=0.3)
        bot.api.inject_message(ADMIN, "private", ADMIN, "/export")
        opml, toml = await bot.documents(ADMIN, 2)
        assert opml.filename.endswith(".opml") and toml.filename.endswith(".toml")
        calls = bot.api.calls_of("sendDocument")
        assert len(calls) == 3 and calls[1].at - calls[0].at >= 0.29
        await asyncio.sleep(0.3)
        assert len(bot.api.documents) == 2


async def test_a_reply_that_meets_a_server_error_is_sent_again(tmp_path):
    async with running_bot(tmp_path, rate_limiter=limiter()) as bot:
        bot.api.fail_next("sendMessage", 502, "Bad Gateway", times=2)
        replies = await bot.send("/help")
        assert "topic" in replies[0].text.lower()
        assert len(bot.api.calls_of("sendMessage")) == 3
        await asyncio.sleep(0.2)
        assert len(bot.api.sent_to(USER)) == 1


def answers(bot, chat: int) -> list:
    return [m for m in bot.api.sent_to(chat) if "lemonde.fr" not in m.text]


async def test_replies_sent_during_a_fan_out_share_its_budget_and_get_no_429(tmp_path):
    shared = limiter()
    async with running_bot(tmp_path, rate_limiter=shared) as bot:
        bot.api.limits = Limits(enabled=True, scale=0.05)
        await add_topic_named(bot.db, "troops")
        chats = [USER, *range(1, 25), -1, -2]
        for chat in chats:
            await add_subscriber(bot.db, chat, ["troops"])
        feed = await add_feed(bot.db, "https://lemonde.fr/rss", "fr", "Le Monde")
        for n in range(3):
            entry = await add_entry(bot.db, feed, f"https://lemonde.fr/{n}", f"Troupes {n}")
            await outbox.record_matches(bot.db, entry, f"https://lemonde.fr/{n}",
                                        [("troops", ["troupes"])], 0.0)
        delivery_bot = telegram.ext.ExtBot(bot.api.token, base_url=bot.api.base_url,
                                           request=HTTPXRequest(connection_pool_size=32),
                                           rate_limiter=shared)

        async def same_text(title, summary, source, target):
            return SimpleNamespace(title=title, summary=summary, translated=False, note=None)

        async with delivery_bot:
            deliverer = Deliverer(bot.db, TelegramSender(delivery_bot), same_text,
                                  DeliveryPolicy().scaled(0.05))
            fan_out = asyncio.create_task(deliverer.drain())
            for n in range(3):  # USER gets alerts too: wait for each answer, not any message
                bot.api.inject_message(USER, "private", USER, "/mysubs")
                await bot.until(lambda n=n: len(answers(bot, USER)) > n)
            await fan_out
        assert len(answers(bot, USER)) == 3
        assert all("troops" in m.text for m in answers(bot, USER))
        assert bot.api.count_429 == 0 and deliverer.count_429 == 0
        alerts = {chat: [m for m in bot.api.sent_to(chat) if "lemonde.fr" in m.text]
                  for chat in chats}
        assert all(len(sent) == 3 for sent in alerts.values())
