"""When something happened, as a chat reads it: its time in the chat's zone and
language, or "seen at …" when the feed gave no publication time. Pure."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import t
from bot.locale_format import format_moment, zone_or_utc


def format_time(moment: datetime, zone: str | None, language: str, *, seen: bool = False) -> str:
    """`Nov 29, 2026, 14:32 CET` in the chat's zone and language (bot/locale_format.py);
    `seen …` when the feed gave no publication time and `moment` is when the entry was
    first seen."""
    text = format_moment(moment, zone_or_utc(zone), language)
    return t(language, "alert.seen", time=text) if seen else text
