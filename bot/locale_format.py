"""Dates, times, durations and numbers as a chat's language writes them, through Babel.

Pure and below every renderer (alerts, stories, digests, telegram): each takes the
chat's language (en | fr | ru) and, for instants, its time zone. The zone's own
abbreviation (CET, MSK) comes from the zone database, the rest from CLDR.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from babel.units import format_unit

FALLBACK = "en"
_UNITS = ((86400, "duration-day"), (3600, "duration-hour"), (60, "duration-minute"))


@functools.cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language or FALLBACK)
    except (ValueError, LookupError):
        return Locale.parse(FALLBACK)


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The IANA zone `name`; UTC when it is empty or unknown to this system."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(moment: datetime | float, zone: tzinfo) -> datetime:
    """An instant (aware datetime, naive UTC, or UNIX seconds) as wall time in `zone`."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def format_moment(moment: datetime | float, zone: tzinfo, language: str) -> str:
    """Date, time and zone: 'Nov 29, 2026, 14:32 CET', '29 nov. 2026, 14:32 CET',
    '29 нояб. 2026 г., 16:32 MSK'."""
    wall = local(moment, zone)
    locale = _locale(language)
    joined = locale.datetime_formats["medium"].format(
        format_skeleton("Hm", wall, locale=locale), format_skeleton("yMMMd", wall, locale=locale))
    return f"{joined} {wall.tzname() or 'UTC'}"


def format_day(day: date, language: str, *, year: bool = False) -> str:
    """A day: 'Nov 29' ('Nov 29, 2026' with the year), '29 nov.', '29 нояб.'."""
    return format_skeleton("yMMMd" if year else "MMMd", day, locale=_locale(language))


def format_clock(moment: datetime | float, zone: tzinfo, language: str) -> str:
    """A time of day on the 24-hour clock: '14:32'."""
    return format_skeleton("Hm", local(moment, zone), locale=_locale(language))


def format_number(value: float, language: str, *, decimals: int = 1) -> str:
    """A count or a ratio: '12,345' / '12 345', '4.5' / '4,5'; at most `decimals`
    decimals, none shown when the value is whole."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
    return format_decimal(round(value, decimals), format=pattern, locale=_locale(language))


def format_duration(seconds: float, language: str) -> str:
    """A duration in words: '10 minutes', '10 минут', '2 heures', '1,5 часа', '7 days'.

    The largest unit that writes it whole, else hours with one decimal (90 minutes
    is '1.5 hours'); what no unit writes exactly is rounded to a tenth of a minute.
    """
    seconds = max(0.0, float(seconds))
    for size, unit in _UNITS:
        amount = seconds / size
        if amount >= 1 and amount == int(amount):
            return _unit(int(amount), unit, language)
        if size == 3600 and amount >= 1 and round(amount, 1) * size == seconds:
            return _unit(round(amount, 1), unit, language)
    if seconds >= 60:
        return _unit(round(seconds / 60, 1), "duration-minute", language)
    return _unit(round(seconds), "duration-second", language)


# Russian puts a span of time in the accusative ("за 1 минуту", "уже 1 неделю",
# "раз в 21 секунду"): only feminine nouns after a number ending in 1 differ from
# what Babel writes (the nominative). Every template using a duration is written so.
_RU_ACCUSATIVE = {"минута": "минуту", "секунда": "секунду", "неделя": "неделю"}


def _unit(amount: float, unit: str, language: str) -> str:
    text = format_unit(amount, unit, length="long", locale=_locale(language))
    if language == "ru":
        number, _, noun = text.rpartition(" ")
        if noun in _RU_ACCUSATIVE:
            text = f"{number} {_RU_ACCUSATIVE[noun]}"
    return text


def format_elapsed(seconds: float, language: str) -> str:
    """How long something has lasted, rounded to what a reader needs: whole days from two
    days, whole hours from two hours, else whole minutes ('25 hours', '8 дней')."""
    seconds = max(0.0, float(seconds))
    size, unit = next(((size, unit) for size, unit in _UNITS if seconds >= 2 * size),
                      _UNITS[-1])
    return _unit(max(1, round(seconds / size)), unit, language)
