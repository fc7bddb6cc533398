"""Tells the bot admins, in their own language and time zone, that a feed has failed for
`health.report_after`, recovered, or gone stale.

The poller writes each report to the ledger (`store/health_reports.py`) and
wakes this loop, which queues one outbox message per admin and marks the report
done in one transaction; the one sender sends them in order, so a 429, a
network error or a restart delays a report, never drops it, and a recovery
never arrives without the failure before it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

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
    """The poller's `on_feed_health` callback for `coverage-bot run`, and the loop (`run`)
    that moves the ledger's reports into the outbox, one message per admin in their
    language, in one transaction that marks the report done; the one sender sends them
    (a 429, a network error or a restart delays a report, never drops or repeats it)."""

    def __init__(self, db: Database, config: Config,
                 on_queued: Callable[[], None] | None = None, *,
                 retry_base: float = 5.0, retry_max: float = 600.0) -> None:
        self.db = db
        self.config = config
        self.on_queued = on_queued
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._wake = asyncio.Event()
        self._failures = 0

    async def __call__(self, feed: Feed, report: HealthReport) -> None:
        """The report is in the ledger already: queue it now rather than at the next look."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.queue_waiting()
                self._failures = 0
            except Exception as exc:  # a locked database must not end the loop
                log.warning("queueing health reports failed (%r); retrying", exc)
                self._failures += 1
            delay = (3600.0 if not self._failures else
                     backoff_delay(self._failures - 1, self.retry_base, self.retry_max))
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()

    async def queue_waiting(self) -> int:
        """Queue every waiting report for every admin; reports queued."""
        reports = await ledger.waiting_reports(self.db)
        if not reports:
            return 0
        admins = self.config.bot.admins
        shown = {admin: (await chats.chat_language(self.db, admin,
                                                   self.config.bot.default_language),
                         await chats.chat_timezone(self.db, admin,
                                                   self.config.bot.default_timezone))
                 for admin in admins}
        messages = [(report.id, [(admin, health_text(report, *shown[admin]))
                                 for admin in admins if admin not in report.told])
                    for report in reports]
        await ledger.queue_reports(self.db, messages, time.time())
        if self.on_queued is not None:
            self.on_queued()
        return len(reports)
