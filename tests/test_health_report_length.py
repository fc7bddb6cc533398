"""A health report fits one Telegram message however long the feed's name or the
server's reason phrase: the feed's texts are cut with an ellipsis, never the report."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.alerts.deliver import Deliverer, DeliveryPolicy
from bot.alerts.health_render import HealthNotice, render_health_report
from bot.alerts.senders import TelegramSender
from bot.config import BotConfig, Config, FeedConfig, PollingConfig
from bot.feeds.poll import FeedPoller
from bot.store.db import Database
from bot.store.feeds import sync_config_feeds
from bot.telegram.health_reports import AdminHealthReporter
from bot.telegram.rate_limiter import BudgetRateLimiter
from tests.fakes.alert_world import translate
from tests.fakes.bot_api import FakeBotAPI, parse_telegram_html, telegram_length
from tests.fakes.feeds import FeedServer

ADMIN = 1001
T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
DAY = 24 * 3600.0
POLLING = PollingConfig(interval=60.0, timeout=2.0, allow_private_addresses=True)


async def test_a_report_of_a_long_named_feed_with_a_6kb_reason_reaches_the_admin(tmp_path):
    name = "Ле Монд & co " * 400  # 5,200 characters
    db = await Database.open(tmp_path / "bot.sqlite3")
    config = Config(bot=BotConfig(admins=(ADMIN,)), polling=POLLING)
    with FeedServer() as server, FakeBotAPI() as api:
        url = server.add("/down.xml", status=503, reason="Overloaded " + "z" * 6000)
        await sync_config_feeds(db, [FeedConfig(url=url, language="fr", name=name)], now=T0)
        bot = ExtBot(api.token, base_url=api.base_url, rate_limiter=BudgetRateLimiter(),
                     request=HTTPXRequest(connection_pool_size=2))
        async with bot:
            sender = Deliverer(db, TelegramSender(bot), translate,
                               policy=DeliveryPolicy(poll_interval=0.02, retry_base=0.05))
            reporter = AdminHealthReporter(db, config, sender.notify)
            async with FeedPoller(db, POLLING, on_feed_health=reporter) as poller:
                await poller.poll_once(T0)
                await poller.poll_once(T0 + DAY + 60)  # failing for a day: reported
            assert await reporter.queue_waiting() == 1
            await sender.drain()  # the one sender sends it
    await db.close()
    [report] = api.texts_to(ADMIN)  # Telegram (the fake) refuses past 4,096 units
    plain = parse_telegram_html(report)
    assert telegram_length(plain) <= 4096
    assert plain.startswith("⚠️ Feed Ле Монд & co") and "HTTP 503 Overloaded zzz" in plain
    assert "…" in plain and url in plain


def test_every_language_fits_whatever_the_lengths():
    for language in ("en", "fr", "ru"):
        for state in ("failing", "recovered", "stale"):
            for since in (None, T0):
                notice = HealthNotice(state, "🚀" * 5000, "https://x.example/" + "a" * 9000,
                                      "<" * 9000, since, T0, T0 + DAY)
                text = render_health_report(notice, language, UTC)
                assert telegram_length(parse_telegram_html(text)) <= 4096
