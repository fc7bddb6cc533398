"""What /trend shows: a topic's matched entries per day (per hour for 24h) in the chat's
time zone, stacked by language, with its words and caption in the chat's language.

Pure: the span is computed from `now` and the zone, entries are counted into its
slots by publication time, and `trend_chart` returns the `TrendChart` that
digests/chart.py draws. An entry published at 01:00 in Moscow counts on its own
Moscow day, whatever the day is in UTC.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.digests.chart import TrendChart
from bot.i18n import plural, t
from bot.locale_format import format_clock, format_day, format_number
from bot.message_text import shorten
from bot.model import LANGUAGES

PERIODS = {"24h": 24, "7d": 7, "30d": 30}  # 24h counts hours, the others days
DEFAULT_PERIOD = "7d"
CAPTION_LENGTH = 1024  # Telegram's limit for a photo's caption
TOPIC_IN_CAPTION = 200


@dataclass(frozen=True)
class TrendSpan:
    """The slots a chart counts into: each slot's start (UTC), then the end of the last."""

    hourly: bool
    starts: tuple[datetime, ...]
    until: datetime
    zone: tzinfo

    @property
    def since(self) -> datetime:
        return self.starts[0]


def trend_span(period: str, now: float, zone: tzinfo) -> TrendSpan:
    """The last 24 hours (hour by hour, the current one last) or the last N days (the
    chat's calendar days, today last), in `zone`."""
    slots = PERIODS[period]
    local = datetime.fromtimestamp(now, UTC).astimezone(zone)
    if period == "24h":
        top = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        starts = tuple(top - timedelta(hours=n) for n in reversed(range(slots)))
        return TrendSpan(True, starts, top + timedelta(hours=1), zone)
    today = local.date()
    days = [today - timedelta(days=n) for n in reversed(range(slots))]
    starts = tuple(_midnight(day, zone) for day in days)
    return TrendSpan(False, starts, _midnight(today + timedelta(days=1), zone), zone)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def count_slots(span: TrendSpan, published: Iterable[tuple[float, str]]
                ) -> dict[str, list[int]]:
    """Entries per slot and language, from (publication time, language) pairs; those
    outside the span are left out."""
    edges = [start.timestamp() for start in span.starts]
    end = span.until.timestamp()
    counts = {language: [0] * len(edges) for language in LANGUAGES}
    for moment, language in published:
        if language not in counts or not edges[0] <= moment < end:
            continue
        counts[language][bisect.bisect_right(edges, moment) - 1] += 1
    return counts


def _labels(span: TrendSpan, lang: str) -> tuple[str, ...]:
    if span.hourly:
        return tuple(format_clock(start, span.zone, lang) for start in span.starts)
    return tuple(format_day(start.astimezone(span.zone).date(), lang) for start in span.starts)


def _span_words(span: TrendSpan, lang: str) -> str:
    if span.hourly:
        return plural(lang, "trend.span_hours", len(span.starts))
    return plural(lang, "trend.span_days", len(span.starts))


def trend_caption(lang: str, topic_title: str, span: TrendSpan, zone_name: str,
                  counts: dict[str, list[int]]) -> str:
    """'Oreshnik, last 7 days (Europe/Moscow): 42 entries — English 20 · French 12'."""
    totals = {language: sum(values) for language, values in counts.items() if sum(values)}
    values = {"topic": shorten(topic_title, TOPIC_IN_CAPTION), "span": _span_words(span, lang),
              "timezone": zone_name}
    if not totals:
        return shorten(t(lang, "trend.caption_empty", **values), CAPTION_LENGTH)
    per_language = " · ".join(
        f"{t(lang, f'language.names.{language}')} {format_number(total, lang)}"
        for language, total in totals.items())
    text = t(lang, "trend.caption", **values, languages=per_language,
             total=plural(lang, "digest.entries", sum(totals.values())))
    return shorten(text, CAPTION_LENGTH)


def trend_chart(lang: str, topic_title: str, span: TrendSpan, zone_name: str,
                counts: dict[str, list[int]]) -> TrendChart:
    """The chart's data and words in `lang`: one bar per slot, labelled as the chat's
    language writes a day ('Nov 29', '29 nov.') or an hour ('14:00')."""
    present = {language: values for language, values in counts.items() if any(values)}
    hourly = span.hourly
    words = {"topic": topic_title, "days": len(span.starts)}
    return TrendChart(
        title=t(lang, "trend.title_hourly" if hourly else "trend.title", **words),
        labels=_labels(span, lang),
        counts=present or {"en": [0] * len(span.starts)},
        legend={language: t(lang, f"language.names.{language}") for language in LANGUAGES},
        x_label=t(lang, "trend.axis_hour" if hourly else "trend.axis_day", timezone=zone_name),
        y_label=t(lang, "trend.axis_entries"),
        empty_text=t(lang, "trend.empty_hourly" if hourly else "trend.empty", **words))
