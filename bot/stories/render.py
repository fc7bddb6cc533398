"""A story's coverage as Telegram HTML: the lines an alert grows, the replies, /story.

Pure: entries in, escaped markup out, in the chat's language. The alert itself
is alerts/render.py's; these pieces go under it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.alerts.render import MAX_LENGTH, clean, shorten, telegram_length
from bot.telegram.i18n import plural, t

TITLE_LENGTH = 300  # a /story line's title: enough to recognise the article


@dataclass(frozen=True)
class CoverageItem:
    """One entry of a story as a coverage line shows it."""

    outlet: str
    language: str
    published_at: float  # UNIX seconds


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def counts(items: Sequence[CoverageItem]) -> tuple[int, int]:
    """(outlets, languages) of a story."""
    return len({i.outlet for i in items}), len({i.language for i in items})


def count_line(items: Sequence[CoverageItem], lang: str) -> str:
    """'5 outlets · 3 languages' (plain text)."""
    outlets, languages = counts(items)
    return f"{plural(lang, 'stories.outlets', outlets)} · " \
        f"{plural(lang, 'stories.languages', languages)}"


def _clock(seconds: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(seconds, UTC).astimezone(zone).strftime("%H:%M")


def coverage_line(item: CoverageItem, zone: tzinfo = UTC) -> str:
    """'BBC (en) 11:30' (plain text)."""
    return f"{clean(item.outlet)} ({item.language}) {_clock(item.published_at, zone)}"


def coverage_block(others: Sequence[CoverageItem], story: Sequence[CoverageItem], lang: str,
                   zone: tzinfo = UTC, budget: int = MAX_LENGTH) -> str:
    """The lines a grown alert ends with: 'Also covered by:' and one line per other entry,
    newest last, then the count. Within `budget` UTF-16 units: the oldest lines give way
    first ('…' marks the cut). Empty when there is no other entry."""
    if not others:
        return ""
    head = t(lang, "stories.also_covered")
    tail = count_line(story, lang)
    lines = [coverage_line(item, zone) for item in others]
    while True:
        plain = "\n".join([head, *lines, tail])
        if telegram_length(plain) <= budget or len(lines) <= 1:
            break
        lines = ["…", *lines[2:]]  # the oldest give way
    body = "\n".join(_e(line) for line in lines)
    return f"<i>{_e(head)}</i>\n{body}\n<b>{_e(tail)}</b>"


def story_count_block(story: Sequence[CoverageItem], lang: str) -> str:
    """`each` mode's line under an entry that joined a story."""
    return f"<i>{_e(t(lang, 'stories.story_line', count=count_line(story, lang)))}</i>"


def language_reply(language: str, outlets: Sequence[str], lang: str) -> str:
    """'Now in Russian: TASS' — the story crossed into `language`."""
    names = ", ".join(dict.fromkeys(clean(o) for o in outlets))
    return _e(t(lang, f"stories.now_in.{language}", outlets=names))


@dataclass(frozen=True)
class ListedEntry:
    """One entry in /story's listing, its title already in the chat's language."""

    outlet: str
    language: str
    published_at: float
    title: str


def story_listing(story_id: int, entries: Sequence[ListedEntry], uncovered: Sequence[str],
                  lang: str, zone: tzinfo = UTC) -> str:
    """/story's answer as plain text (no markup), at most 4096 UTF-16 units."""
    items = [CoverageItem(e.outlet, e.language, e.published_at) for e in entries]
    head = t(lang, "stories.header", id=story_id, count=count_line(items, lang))
    blocks = [f"{_clock(e.published_at, zone)} · {clean(e.outlet)} ({e.language})\n"
              f"{shorten(clean(e.title), TITLE_LENGTH)}" for e in entries]
    tail = (t(lang, "stories.not_covered", outlets=", ".join(uncovered)) if uncovered
            else t(lang, "stories.all_covered"))
    tail = shorten(tail, 1000)
    while True:
        text = "\n\n".join([head, *blocks, tail])
        if telegram_length(text) <= MAX_LENGTH or len(blocks) <= 1:
            return shorten(text, MAX_LENGTH)
        blocks = ["…", *blocks[2:]]
