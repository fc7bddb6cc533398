"""Admins hear once that a feed has failed for 24 hours, and once that it recovered: the
report is queued in the one outbox and sent by the one sender."""

import asyncio
import contextlib
from types import SimpleNamespace

from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.alerts.deliver import Deliverer, DeliveryPolicy
from bot.alerts.senders import TelegramSender
from bot.config import BotConfig, Config, FeedConfig, HealthConfig
from bot.feeds.poll import FeedPoller
from bot.store.chats import ensure_chat, set_language
from bot.store.db import Database
from bot.store.feeds import get_feed_by_url, record_failure, record_success, sync_config_feeds
from bot.telegram.health_reports import AdminHealthReporter
from bot.telegram.rate_limiter import BudgetRateLimiter
from tests.fakes.alert_world import translate
from tests.fakes.bot_api import FakeBotAPI, parse_telegram_html

ADMINS = (1001, 1002)
URL = "https://tass.example/rss?a=1&b=<2>"
HOUR = 3600.0


@contextlib.asynccontextmanager
async def health_world(tmp_path, admins=ADMINS, name="TASS", health=None, **reporter_options):
    """A feed in a real database, the fake Bot API, the reporter wired to a poller
    (staleness out of the way unless `health` says otherwise), and the one sender."""
    db = await Database.open(tmp_path / "health.sqlite3")
    config = Config(bot=BotConfig(admins=admins, default_language="en"))
    await sync_config_feeds(db, [FeedConfig(url=URL, language="ru", name=name)])
    feed = await get_feed_by_url(db, URL)
    with FakeBotAPI() as api:
        bot = ExtBot(api.token, base_url=api.base_url, rate_limiter=BudgetRateLimiter(),
                           request=HTTPXRequest(connection_pool_size=4))
        async with bot:
            sender = Deliverer(db, TelegramSender(bot), translate,
                               policy=DeliveryPolicy(poll_interval=0.02, retry_base=0.05))
            reporter = AdminHealthReporter(db, config, sender.notify, **reporter_options)
            poller = FeedPoller(db, config.polling, on_feed_health=reporter,
                                health=health or HealthConfig(stale_after=3650 * 86400.0))
            try:
                yield SimpleNamespace(db=db, api=api, feed=feed, reporter=reporter,
                                      poller=poller, sender=sender)
            finally:
                await poller.aclose()
    await db.close()


async def test_failing_for_a_day_is_reported_once_then_recovery_once(tmp_path):
    async with health_world(tmp_path, name="ТАСС & co") as w:
        db, feed, poller, reporter, api = w.db, w.feed, w.poller, w.reporter, w.api
        await ensure_chat(db, 1002, "private", "admin two", "en")
        await set_language(db, 1002, "fr")
        t0 = 1_800_000_000.0
        await record_failure(db, feed.id, t0, "HTTP 503 Service Unavailable", t0 + 60)
        assert await poller.report_health(t0 + 23 * HOUR) == []  # not a day yet
        await record_failure(db, feed.id, t0 + 23 * HOUR, "timed out after 20s", 0)
        [failing] = await poller.report_health(t0 + 25 * HOUR)
        assert failing.state == "failing"
        assert await reporter.queue_waiting() == 1
        assert await reporter.queue_waiting() == 0  # queued once
        await w.sender.drain()
        assert await poller.report_health(t0 + 26 * HOUR) == []  # told once

        await record_success(db, feed.id, t0 + 27 * HOUR, t0 + 28 * HOUR,
                             etag=None, last_modified=None)
        [recovered] = await poller.report_health(t0 + 27 * HOUR)
        assert recovered.state == "recovered"
        assert await reporter.queue_waiting() == 1
        await w.sender.drain()
        assert await poller.report_health(t0 + 28 * HOUR) == []

    first, second = api.texts_to(1001), api.texts_to(1002)
    assert len(first) == len(second) == 2
    plain = [parse_telegram_html(text) for text in first]  # feed text escaped, valid HTML
    assert "ТАСС & co" in plain[0] and "25 hours" in plain[0] and "timed out" in plain[0]
    assert "since Jan 15, 2027, 08:00 UTC" in plain[0] and "Last success: never" in plain[0]
    assert URL in plain[0] and "works again, after failing for 27 hours" in plain[1]
    french = parse_telegram_html(second[0])  # each admin in their language
    assert "depuis le 15 janv. 2027, 08:00 UTC (25\u00a0heures)" in french


async def test_a_429_delays_the_failure_report_and_the_recovery_waits_behind_it(tmp_path):
    async with health_world(tmp_path) as w:
        t0 = 1_800_000_000.0
        await record_failure(w.db, w.feed.id, t0, "HTTP 503", t0 + 60)
        w.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        await w.poller.report_health(t0 + 25 * HOUR)
        await w.reporter.queue_waiting()
        await record_success(w.db, w.feed.id, t0 + 26 * HOUR, t0 + 27 * HOUR,
                             etag=None, last_modified=None)
        await w.poller.report_health(t0 + 26 * HOUR)
        await w.reporter.queue_waiting()
        await w.sender.drain()
        assert w.sender.count_429 == 1
    for admin in ADMINS:
        texts = [parse_telegram_html(text) for text in w.api.texts_to(admin)]
        assert len(texts) == 2 and "25 hours" in texts[0] and "works again" in texts[1]


async def test_a_report_that_meets_server_errors_is_retried_until_sent_once(tmp_path):
    async with health_world(tmp_path, admins=(1001,)) as w:
        stop = asyncio.Event()
        loops = [asyncio.create_task(w.reporter.run(stop)), asyncio.create_task(w.sender.run(stop))]
        try:
            await record_failure(w.db, w.feed.id, 0.0, "HTTP 503", 60.0)
            w.api.fail_next("sendMessage", 502, "Bad Gateway", times=6)
            await w.poller.report_health(25 * HOUR)
            assert await asyncio.to_thread(w.api.wait_for, lambda a: a.texts_to(1001), 30.0)
            await asyncio.sleep(0.3)
        finally:
            stop.set()
            await asyncio.gather(*loops)
        waiting = await w.db.fetchone(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'health' AND state != 'sent'")
        assert waiting[0] == 0
    assert len(w.api.texts_to(1001)) == 1


async def test_a_report_too_long_for_telegram_is_cut_to_fit_and_sent(tmp_path):
    reason = "HTTP 500 " + "x" * 6000
    async with health_world(tmp_path, admins=(1001,), name="N" * 5000) as w:
        await record_failure(w.db, w.feed.id, 0.0, reason, 60.0)
        await w.poller.report_health(25 * HOUR)
        await w.reporter.queue_waiting()
        await w.sender.drain()
    [text] = w.api.texts_to(1001)
    assert len(parse_telegram_html(text)) <= 4096 and "HTTP 500 xxx" in text


async def test_an_admin_who_never_opened_a_chat_does_not_hold_the_others_back(tmp_path):
    async with health_world(tmp_path) as w:
        w.api.block(1001)
        await record_failure(w.db, w.feed.id, 0.0, "HTTP 503", 60.0)
        await w.poller.report_health(25 * HOUR)
        await w.reporter.queue_waiting()
        await w.sender.drain()
        dead = await w.db.fetchone(
            "SELECT last_error FROM outbox WHERE kind = 'health' AND chat_id = 1001")
    assert w.api.texts_to(1001) == [] and len(w.api.texts_to(1002)) == 1
    assert "blocked" in dead[0]
