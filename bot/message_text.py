"""Telegram message text as the Bot API counts and cuts it: UTF-16 lengths, feed text
on one line, cutting at a word with an ellipsis, rendered HTML back to its text. Pure;
every renderer (alerts, stories, digests, command replies) measures with these."""

from __future__ import annotations

import re

from bot.markup import html_to_text

MAX_LENGTH = 4096  # Telegram's limit, counted after entity parsing
SUMMARY_LENGTH = 600  # "a short summary": enough to judge the story, short enough to scan
ELLIPSIS = "…"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


def telegram_length(text: str) -> int:
    """Length as Telegram counts a parsed message: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def clean(text: str) -> str:
    """Feed text on one line: control characters dropped, runs of whitespace one space."""
    return _SPACES.sub(" ", _CONTROL.sub("", text or "")).strip()


def shorten(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units, cut at a word boundary when one is near, with an ellipsis."""
    if telegram_length(text) <= limit:
        return text
    if limit <= 0:
        return ""
    budget = limit - 1  # room for the ellipsis
    cut = text[:budget]
    while telegram_length(cut) > budget:  # astral characters count twice
        cut = cut[:-1]
    space = cut.rfind(" ")
    if space >= budget * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def strip_html(markup: str) -> str:
    """Rendered HTML back to the text a reader sees."""
    return html_to_text(markup, fold=False)
