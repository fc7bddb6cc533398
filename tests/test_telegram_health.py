"""Admins hear once that a feed has failed for 24 hours, and once that it recovered."""

import telegram
from telegram.request import HTTPXRequest

from bot.config import BotConfig, Config, FeedConfig
from bot.feeds.poll import FeedPoller
from bot.store.chats import ensure_chat, set_language
from bot.store.db import Database
from bot.store.feeds import get_feed_by_url, record_failure, record_success, sync_config_feeds
from bot.telegram.health_reports import AdminHealthReporter
from tests.fakes.bot_api import FakeBotAPI, parse_telegram_html

ADMINS = (1001, 1002)
URL = "https://tass.example/rss?a=1&b=<2>"
HOUR = 3600.0


async def test_failing_for_a_day_is_reported_once_then_recovery_once(tmp_path):
    db = await Database.open(tmp_path / "health.sqlite3")
    config = Config(bot=BotConfig(admins=ADMINS, default_language="en"))
    await sync_config_feeds(db, [FeedConfig(url=URL, language="ru", name="ТАСС & co")])
    await ensure_chat(db, 1002, "private", "admin two", "en")
    await set_language(db, 1002, "fr")
    feed = await get_feed_by_url(db, URL)

    with FakeBotAPI() as api:
        bot = telegram.Bot(api.token, base_url=api.base_url,
                           request=HTTPXRequest(connection_pool_size=4))
        async with bot:
            poller = FeedPoller(db, config.polling, on_feed_health=AdminHealthReporter(
                bot, db, config))
            try:
                t0 = 1_800_000_000.0
                await record_failure(db, feed.id, t0, "HTTP 503 Service Unavailable", t0 + 60)
                assert await poller.report_health(t0 + 23 * HOUR) == []  # not a day yet
                await record_failure(db, feed.id, t0 + 23 * HOUR, "timed out after 20s", 0)
                [failing] = await poller.report_health(t0 + 25 * HOUR)
                assert failing.state == "failing"
                assert await poller.report_health(t0 + 26 * HOUR) == []  # told once

                await record_success(db, feed.id, t0 + 27 * HOUR, t0 + 28 * HOUR,
                                     etag=None, last_modified=None)
                [recovered] = await poller.report_health(t0 + 27 * HOUR)
                assert recovered.state == "recovered"
                assert await poller.report_health(t0 + 28 * HOUR) == []
            finally:
                await poller.aclose()

    first, second = api.texts_to(1001), api.texts_to(1002)
    assert len(first) == len(second) == 2
    plain = [parse_telegram_html(text) for text in first]  # feed text escaped, valid HTML
    assert "ТАСС & co" in plain[0] and "24 hours" in plain[0] and "timed out" in plain[0]
    assert URL in plain[0] and "works again" in plain[1]
    assert "24 heures" in parse_telegram_html(second[0])  # each admin in their language
    await db.close()
