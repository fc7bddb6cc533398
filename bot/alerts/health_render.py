"""A feed's health report for a bot admin, as Telegram HTML in the admin's language and zone.

Pure: what changed ('failing', 'recovered', 'stale'), since when, for how long, the
last error and the last success, with the feed's own text escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import tzinfo

from bot.i18n import t
from bot.locale_format import format_elapsed, format_moment
from bot.message_text import shorten

# UTF-16 units of each of the feed's texts in a report: together far within Telegram's
# 4,096, however long a feed's name or a server's reason phrase.
NAME_SHOWN, URL_SHOWN, ERROR_SHOWN = 200, 1000, 500


@dataclass(frozen=True)
class HealthNotice:
    """What one report tells: the feed, its new state and the times that explain it."""

    state: str  # failing | recovered | stale
    feed_name: str
    feed_url: str
    error: str | None = None
    since: float | None = None  # failing since, or nothing new since (stale)
    last_success_at: float | None = None
    reported_at: float | None = None  # when the change was seen: the end of "for how long"


def _when(seconds: float | None, zone: tzinfo, language: str) -> str:
    return format_moment(seconds, zone, language) if seconds else t(language, "health.never")


def render_health_report(notice: HealthNotice, language: str, zone: tzinfo) -> str:
    """'⚠️ Feed TASS has been failing for 1 day, since Nov 29, 2026, 14:32 CET: …'."""
    since, reported = notice.since, notice.reported_at
    lasted = (reported - since) if since is not None and reported is not None else None
    values = {
        "feed": html.escape(shorten(notice.feed_name or notice.feed_url, NAME_SHOWN),
                            quote=False),
        "url": html.escape(shorten(notice.feed_url, URL_SHOWN), quote=False),
        "error": html.escape(shorten(notice.error or "", ERROR_SHOWN), quote=False),
        "since": _when(since, zone, language),
        "success": _when(notice.last_success_at, zone, language),
        "duration": format_elapsed(lasted or 0.0, language),
    }
    key = f"health.{notice.state}" if lasted is not None else f"health.{notice.state}_undated"
    return t(language, key, **values)
