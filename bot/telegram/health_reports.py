"""Tells the bot admins, in their own language and time zone, that a feed has failed for
`health.report_after`, recovered, or gone stale.

The poller writes each report to the ledger (`store/health_reports.py`) and
wakes this sender; a report leaves the ledger only once every admin has it, so
a 429, a network error or a restart delays a report, never drops it, and a
recovery never arrives without the failure before it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.alerts.health_render import HealthNotice, render_health_report
from bot.backoff import backoff_delay
from bot.config import Config
from bot.locale_format import zone_or_utc
from bot.model import Feed
from bot.store import chats
from bot.store import health_reports as ledger
from bot.store.db import Database
from bot.store.feeds import HealthReport

log = logging.getLogger(__name__)


def health_text(report: ledger.WaitingReport, language: str, zone: str | None) -> str:
    """The message for one report, as Telegram HTML with the feed's text cut to fit and
    escaped (alerts/health_render.py)."""
    return render_health_report(HealthNotice(
        report.state, report.feed_name, report.feed_url, report.error, report.since,
        report.last_success_at, report.created_at), language, zone_or_utc(zone))


class AdminHealthReporter:
    """The poller's `on_feed_health` callback for `coverage-bot run`, and the loop that
    sends the ledger's reports (`run`)."""

    def __init__(self, bot: Bot, db: Database, config: Config,
                 retry_base: float = 5.0, retry_max: float = 600.0) -> None:
        self.bot = bot
        self.db = db
        self.config = config
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._wake = asyncio.Event()
        self._failures = 0
        self._sent_unrecorded: set[tuple[int, int]] = set()

    async def __call__(self, feed: Feed, report: HealthReport) -> None:
        """The report is in the ledger already: send it now rather than at the next look."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                done = await self.send_waiting()
            except Exception as exc:  # a locked database must not end the loop
                log.warning("sending health reports failed (%r); retrying", exc)
                done = False
            self._failures = 0 if done else self._failures + 1
            delay = (3600.0 if done else
                     backoff_delay(self._failures - 1, self.retry_base, self.retry_max))
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()

    async def send_waiting(self) -> bool:
        """Send every waiting report to the admins who do not have it; True if none is left."""
        for report in await ledger.waiting_reports(self.db):
            for admin_id in self.config.bot.admins:
                if admin_id not in report.told and not await self._tell(report, admin_id):
                    return False  # later reports wait behind this one
            await ledger.mark_done(self.db, report.id, time.time())
        return True

    async def _tell(self, report: ledger.WaitingReport, admin_id: int) -> bool:
        key = (report.id, admin_id)
        if key not in self._sent_unrecorded:
            if not await self._send(report, admin_id):
                return False
            self._sent_unrecorded.add(key)
        try:
            await ledger.mark_told(self.db, report.id, admin_id)
        except Exception as exc:  # sent all the same: remembered, never sent again
            log.error("recording health report %s to admin %s failed (%r); retrying",
                      report.id, admin_id, exc)
            return False
        self._sent_unrecorded.discard(key)
        return True

    async def _send(self, report: ledger.WaitingReport, admin_id: int) -> bool:
        language = await chats.chat_language(self.db, admin_id, self.config.bot.default_language)
        zone = await chats.chat_timezone(self.db, admin_id, self.config.bot.default_timezone)
        text = health_text(report, language, zone)
        try:
            await self.bot.send_message(admin_id, text, parse_mode="HTML",
                                        disable_web_page_preview=True)
        except (Forbidden, BadRequest) as exc:  # an admin who never opened a chat with the bot
            log.warning("could not tell admin %s about %s: %s", admin_id, report.feed_url, exc)
        except TelegramError as exc:  # the rate limiter gave up waiting: try again later
            log.warning("health report for %s to admin %s waits: %s", report.feed_url,
                        admin_id, exc)
            return False
        return True
