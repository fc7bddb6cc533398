"""When a chat's digest periods begin and end: pure functions of (mode, time zone, now).

Periods are half-open, [start, end): a match at exactly `end` belongs to the
next period. Every instant is an aware UTC datetime.

- `hourly`: each full hour of the chat's wall clock (in a time zone offset by
  half an hour, such as Asia/Kolkata, that is :30 UTC).
- `daily HH:MM`: each day at HH:MM on the chat's wall clock, so 08:00 stays
  08:00 across daylight-saving changes (the periods around a change last 23
  or 25 hours). A time the clock skips that day (02:30 in Paris on the
  spring-forward Sunday) fires at the first instant after the gap (03:00
  local), as cron does; a time that occurs twice (fall back) fires at its
  first occurrence only.
- `every DURATION`: consecutive periods of exactly DURATION counted from the
  UNIX epoch, whatever the time zone (a wall clock that jumps must not make
  one period shorter or longer than asked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import parse_duration

MIN_EVERY = 60.0  # seconds; SPEC: `every` takes at least 1m
DEFAULT_DAILY = time(8, 0)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class DigestMode:
    """`off`, `hourly`, `daily` at `at`, or `every` `seconds`."""

    kind: str
    at: time | None = None
    seconds: float | None = None

    @property
    def active(self) -> bool:
        return self.kind != "off"

    def __str__(self) -> str:
        if self.kind == "daily":
            return f"daily {self.at:%H:%M}"
        if self.kind == "every":
            return f"every {_duration_text(self.seconds)}"
        return self.kind


OFF = DigestMode("off")


class BadDigestMode(ValueError):
    """The words given to /digest name no mode; the message says why, in English."""


def _duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_mode(words: list[str]) -> DigestMode:
    """`off` | `hourly` | `daily [HH:MM]` | `every DURATION` (at least 1m); BadDigestMode else."""
    if not words:
        raise BadDigestMode("no mode given")
    kind, rest = words[0].lower(), words[1:]
    if kind in ("off", "hourly") and not rest:
        return DigestMode(kind)
    if kind == "daily" and len(rest) <= 1:
        if not rest:
            return DigestMode("daily", at=DEFAULT_DAILY)
        found = _HHMM.match(rest[0])
        if found is None:
            raise BadDigestMode(f"{rest[0]!r} is not a time HH:MM")
        return DigestMode("daily", at=time(int(found[1]), int(found[2])))
    if kind == "every" and len(rest) == 1:
        try:
            seconds = parse_duration(rest[0])
        except ValueError:
            raise BadDigestMode(f"{rest[0]!r} is not a duration") from None
        if seconds < MIN_EVERY:
            raise BadDigestMode("the period must be at least 1m")
        return DigestMode("every", seconds=seconds)
    raise BadDigestMode(f"unknown mode {' '.join(words)!r}")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def period_at(mode: DigestMode, zone: ZoneInfo, now: datetime) -> Period:
    """The period that contains `now`: start <= now < end. `end` is when its digest is due."""
    now = now.astimezone(UTC)
    if mode.kind == "every":
        step = mode.seconds
        start = datetime.fromtimestamp(now.timestamp() // step * step, UTC)
        return Period(start, start + timedelta(seconds=step))
    if mode.kind == "hourly":
        return _around(now, lambda u: _is_local_hour(u, zone), timedelta(minutes=15))
    if mode.kind == "daily":
        local_day = now.astimezone(zone).date()
        fires = [_daily_fire(local_day + timedelta(days=d), mode.at, zone) for d in (-2, -1, 0, 1, 2)]
        start = max(f for f in fires if f <= now)
        end = min(f for f in fires if f > now)
        return Period(start, end)
    raise ValueError(f"no periods in digest mode {mode.kind!r}")


def next_end(mode: DigestMode, zone: ZoneInfo, now: datetime) -> datetime:
    """When the next digest after `now` is due."""
    return period_at(mode, zone, now).end


def last_end(mode: DigestMode, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest period end at or before `now`: the digest that should exist by now."""
    return period_at(mode, zone, now).start


def _is_local_hour(instant: datetime, zone: ZoneInfo) -> bool:
    local = instant.astimezone(zone)
    return local.minute == 0 and local.second == 0


def _around(now: datetime, is_boundary, step: timedelta) -> Period:
    """The boundaries either side of `now`, among instants on a `step` grid from the epoch.

    Offsets from UTC are whole quarter-hours everywhere, so every local full hour is
    on the 15-minute UTC grid; a few steps either way find the neighbours.
    """
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    base = epoch + (now - epoch) // step * step
    start = base
    while not is_boundary(start):
        start -= step
    end = base + step
    while not is_boundary(end):
        end += step
    return Period(start, end)


def _daily_fire(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant of wall time `at` on `day` in `zone` (see the module's rules for gaps)."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # exists (for a repeated time, fold=0 is its first occurrence)
    # Skipped by a spring-forward: the first instant whose wall time is past `wall`.
    # fold=1 reads the time with the offset after the change, which lands before the gap.
    instant = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    instant = instant.replace(second=0, microsecond=0)
    while instant.astimezone(zone).replace(tzinfo=None) < wall:
        instant += timedelta(minutes=1)
    return instant
