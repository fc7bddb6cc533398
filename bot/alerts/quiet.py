"""Quiet hours: a chat's daily window, in its time zone, when what the bot sends
arrives without a notification sound. Nothing is held back; only the sound goes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.locale_format import zone_or_utc

_WINDOW = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*[-–—]\s*([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class QuietHours:
    start: int  # minutes after local midnight
    end: int  # the first minute that rings again; before `start` when it spans midnight

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"

    def covers(self, minute: int) -> bool:
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end  # e.g. 22:00-07:00


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_quiet(text: str) -> QuietHours:
    """'22:00-07:00' (any dash) -> QuietHours; ValueError for anything else, or an
    empty window (start = end)."""
    found = _WINDOW.match(text.strip())
    if found is None:
        raise ValueError(text)
    h1, m1, h2, m2 = (int(part) for part in found.groups())
    window = QuietHours(h1 * 60 + m1, h2 * 60 + m2)
    if window.start == window.end:
        raise ValueError(text)
    return window


def is_quiet(stored: str | None, zone: str | None, now: float) -> bool:
    """Whether a message sent at `now` falls in the chat's quiet hours (`stored` as
    written by /quiet, None: none), read in the chat's zone."""
    if not stored:
        return False
    try:
        window = parse_quiet(stored)
    except ValueError:  # written by this module, so only a hand-edited row gets here
        return False
    local = datetime.fromtimestamp(now, UTC).astimezone(zone_or_utc(zone))
    return window.covers(local.hour * 60 + local.minute)
