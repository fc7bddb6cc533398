"""Wiring: builds the parts, starts the loops, and stops them cleanly on SIGINT/SIGTERM.

One process runs Telegram long polling (or the console), the feed poller and the
deliverer as tasks on one event loop; none of them blocks the others
(feedparser and deep-translator run in bounded pools).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable

from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.alerts.deliver import DeliveryPolicy
from bot.alerts.senders import ConsoleSender, TelegramSender
from bot.backoff import backoff_delay
from bot.config import Config
from bot.digests.service import NoticeService
from bot.feeds.websub_service import WebSubService
from bot.pipeline import build_pipeline
from bot.store import chats
from bot.store.db import Database
from bot.store.digests import prune_notices
from bot.store.feeds import sync_config_feeds
from bot.store.health_reports import prune_health_reports
from bot.store.lease import Lease
from bot.store.outbox import prune_outbox
from bot.store.stories import prune_stories
from bot.store.topics import list_topics, sync_config_topics
from bot.supervisor import LoopCannotRun, run_supervised
from bot.telegram.rate_limiter import BudgetRateLimiter
from bot.translation.cache import prune_translations
from bot.translation.service import Translator

log = logging.getLogger(__name__)

# Console subscribers live far below any Telegram chat id (channels are about -1e12).
CONSOLE_CHAT_BASE = -9_000_000_000_000_000
HOUSEKEEPING_EVERY = 3600.0
# SPEC: SIGINT/SIGTERM stop the service within 10 s, whatever Telegram, the feeds or the
# translator do. The loops get LOOPS_STOP_WITHIN (the deliverer's sends in flight finish
# or stay queued within it), then are cancelled; the Telegram side gets TELEGRAM_STOP_WITHIN.
LOOPS_STOP_WITHIN = 6.0
TELEGRAM_STOP_WITHIN = 2.0


async def subscribe_console(db: Database, config: Config) -> None:
    """One virtual subscriber per topic, in bot.default_language (SPEC: run --console)."""
    topics = await list_topics(db)
    ids = {t.name: n for n, t in enumerate(sorted(topics, key=lambda t: t.name), start=1)}
    for topic in topics:
        chat_id = CONSOLE_CHAT_BASE - ids[topic.name]
        await chats.ensure_chat(db, chat_id, "console", f"console · {topic.name}",
                                config.bot.default_language)
        await chats.subscribe(db, chat_id, topic.name)


def delivery_bot(config: Config, rate_limiter: BudgetRateLimiter) -> ExtBot:
    """A Bot for alerts, with a pool for chats sent in parallel; it spends the same
    Telegram budget (`rate_limiter`) as the application's replies."""
    kwargs = {}
    if config.bot.api_base_url:
        from bot.telegram.application import _file_base_url

        base = config.bot.api_base_url.rstrip("/")
        kwargs = {"base_url": base, "base_file_url": _file_base_url(base)}
    request = HTTPXRequest(connection_pool_size=DeliveryPolicy().max_in_flight,
                           read_timeout=30.0)
    return ExtBot(config.bot.token, request=request, rate_limiter=rate_limiter, **kwargs)


async def _every(stop: asyncio.Event, seconds: float,
                 job: Callable[[], Awaitable[None]]) -> None:
    """Run `job` now and every `seconds` until stop; a failing run is logged, never fatal."""
    while not stop.is_set():
        try:
            await job()
        except Exception:
            log.exception("housekeeping failed; will try again")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def _close_on_stop(stop: asyncio.Event, rate_limiter: BudgetRateLimiter) -> None:
    """As the stop begins, not after the loops return: replies waiting or retrying give
    up at once instead of holding the stop."""
    await stop.wait()
    rate_limiter.close()


async def _run_until_stopped(loops: dict[str, Callable[[asyncio.Event], Awaitable[None]]],
                             stop: asyncio.Event) -> None:
    """The loops until `stop`; then they get LOOPS_STOP_WITHIN to finish, and are cancelled
    past it (what they had not sent stays queued)."""
    supervised = asyncio.create_task(run_supervised(loops, stop))
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([supervised, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not supervised.done():
        done, _ = await asyncio.wait([supervised], timeout=LOOPS_STOP_WITHIN)
        if not done:
            log.warning("stopping: loops still busy after %.0fs are cancelled; what they had "
                        "not sent stays queued", LOOPS_STOP_WITHIN)
            supervised.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervised
            return
    await supervised


class ServiceError(Exception):
    """The service cannot run as configured; the message is one line for the user."""


async def _start_telegram(application, stop: asyncio.Event) -> bool:
    """Start long polling; wait out a Bot API that cannot be reached (False if stopped
    meanwhile). A token Telegram refuses is the user's to fix: ServiceError."""
    from telegram.error import InvalidToken, NetworkError

    from bot.telegram.application import start_polling

    attempt = 0
    while True:
        delay = backoff_delay(attempt, 2.0, 60.0)
        attempt += 1
        try:
            await start_polling(application)
            return True
        except InvalidToken:
            raise ServiceError("Telegram refused the bot token (check bot.token or "
                               "COVERAGE_BOT_TOKEN)") from None
        except NetworkError as exc:
            log.warning("cannot reach the Telegram Bot API (%s); retrying in %gs", exc, delay)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return False


async def run_service(config: Config, *, console: bool,
                      stop: asyncio.Event | None = None) -> None:
    """The service until SIGINT/SIGTERM (or `stop`): nothing queued is lost on the way out."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    lease = Lease.take(config.storage.database)  # DatabaseHeld: another service has it
    try:
        db = await Database.open(config.storage.database)
    except BaseException:
        if lease is not None:
            lease.release()
        raise
    application = None
    reporter = None
    bot = None
    translator = None
    pipeline = None
    websub = None
    try:
        await sync_config_feeds(db, config.feeds)
        await sync_config_topics(db, config.topics)
        translator = await Translator.create(config.translation, db)

        if console:
            await subscribe_console(db, config)
            sender, on_health = ConsoleSender(sys.stdout), None
        else:
            from bot.telegram.application import build_application
            from bot.telegram.context import BotContext
            from bot.telegram.health_reports import AdminHealthReporter

            await chats.set_console_chats_active(db, False)
            context = BotContext(db=db, config=config, translator=translator)
            rate_limiter = BudgetRateLimiter()  # the one Telegram budget of this service
            application = build_application(config, context, rate_limiter)
            bot = delivery_bot(config, rate_limiter)
            sender = TelegramSender(bot)
            on_health = reporter = AdminHealthReporter(db, config)

        pipeline = await build_pipeline(db, config, translator, sender, console=console,
                                        on_feed_health=on_health)
        poller, stage, deliverer = pipeline.poller, pipeline.matching, pipeline.deliverer
        deliverer.default_language = config.bot.default_language
        if reporter is not None:
            reporter.on_queued = deliverer.notify  # reports go out through the one sender
        if config.websub.public_url:
            websub = WebSubService(db, config.websub, config.polling, poller.take_pushed)
            try:
                await websub.start()
            except OSError as exc:
                raise ServiceError(f"websub.listen: cannot listen on {config.websub.listen}: "
                                   f"{exc.strerror or exc}") from None
        # Entries a previous run stored but did not match are the match stage's first
        # work once the loops run: a backlog never holds up Telegram or a stop.

        notices = None
        if application is not None:
            # Digests and surge alerts are written into the outbox; the deliverer sends them.
            notices = NoticeService(db, translator.translate_entry, config.surges,
                                    default_timezone=config.bot.default_timezone,
                                    on_queued=deliverer.notify)
            context.on_digest_changed = notices.notify
            context.on_topics_changed = stage.topics_changed
            if not await _start_telegram(application, stop):
                return
            await bot.initialize()  # after the token and the Bot API proved usable

        async def housekeeping() -> None:
            # Entries are pruned by the poller; the alerts they carried go after them.
            pruned = await prune_outbox(db, time.time() - config.storage.retention)
            if pruned:
                log.info("pruned %d delivered alerts past the retention", pruned)
            await prune_notices(db, time.time() - config.storage.retention)
            await prune_stories(db)  # stories whose entries were all pruned
            await prune_health_reports(db, time.time() - config.storage.retention)
            forgotten = await prune_translations(db, time.time() - config.storage.retention)
            if forgotten:
                log.info("pruned %d cached translations past the retention", forgotten)

        loops = {"feed poller": poller.run, "deliverer": deliverer.run,
                 "matching": stage.run,
                 "housekeeping": lambda stop: _every(stop, HOUSEKEEPING_EVERY, housekeeping)}
        if notices is not None:
            loops["digests and surges"] = notices.run
        if reporter is not None:
            loops["health reporter"] = reporter.run
        if websub is not None:
            loops["websub"] = websub.run
        log.info("coverage-bot running (%s): %d feeds, %d topics",
                 "console" if console else "telegram", len(config.feeds), len(config.topics))
        closer = (asyncio.create_task(_close_on_stop(stop, rate_limiter))
                  if application is not None else None)
        try:
            await _run_until_stopped(loops, stop)
        except LoopCannotRun as exc:
            raise ServiceError(str(exc)) from None
        finally:
            if closer is not None:
                closer.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if application is not None:
            from bot.telegram.application import stop_polling

            # Handlers still running (a reply waiting on a hanging translator) are not
            # waited for past the bound: their replies are dropped and logged.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stop_polling(application), TELEGRAM_STOP_WITHIN)
        if bot is not None:
            with contextlib.suppress(Exception):
                await bot.shutdown()
        if websub is not None:
            await websub.aclose()
        if pipeline is not None:
            await pipeline.aclose()
        if translator is not None:
            await translator.close()
        await db.close()
        if lease is not None:
            lease.release()
