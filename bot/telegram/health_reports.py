"""Tells the bot admins, in their own language, that a feed has failed for 24 h or recovered."""

from __future__ import annotations

import html
import logging

from telegram import Bot
from telegram.error import TelegramError

from bot.config import Config
from bot.model import Feed
from bot.store import chats
from bot.store.db import Database
from bot.store.feeds import HealthReport
from bot.telegram.i18n import t

log = logging.getLogger(__name__)


def health_text(language: str, feed: Feed, report: HealthReport) -> str:
    """The message for one report, as Telegram HTML with the feed's text escaped."""
    values = {"feed": html.escape(feed.name or feed.url), "url": html.escape(feed.url),
              "error": html.escape(report.health.last_error or "")}
    return t(language, f"health.{report.state}", **values)


class AdminHealthReporter:
    """The poller's `on_feed_health` callback for `coverage-bot run`."""

    def __init__(self, bot: Bot, db: Database, config: Config) -> None:
        self.bot = bot
        self.db = db
        self.config = config

    async def __call__(self, feed: Feed, report: HealthReport) -> None:
        for admin_id in self.config.bot.admins:
            language = await chats.chat_language(self.db, admin_id,
                                                 self.config.bot.default_language)
            try:
                await self.bot.send_message(admin_id, health_text(language, feed, report),
                                            parse_mode="HTML", disable_web_page_preview=True)
            except TelegramError as exc:  # an admin who never opened a chat with the bot
                log.warning("could not tell admin %s about %s: %s", admin_id, feed.url, exc)
