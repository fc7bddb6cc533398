"""A story's coverage as Telegram HTML: the lines an alert grows, the replies, /story.

Pure: entries in (their titles already in the chat's language), escaped markup
out, in the chat's language and time zone. The alert itself is
alerts/render.py's; these pieces go under it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo

from bot.i18n import plural, t
from bot.locale_format import format_clock, format_day, local
from bot.message_text import MAX_LENGTH, clean, shorten, telegram_length

LINE_TITLE_LENGTH = 160  # an "Also covered by" title: enough to know the article
TITLE_LENGTH = 300  # a /story title
# Telegram applies at most 100 formatting entities per message and refuses a message
# whose markup, links included, runs far past its text (about 9,500 characters).
MAX_ENTITIES = 100
MAX_MARKUP = 8192
_OPENING_TAG = re.compile(r"<[a-z]")


@dataclass(frozen=True)
class CoverageItem:
    """One entry of a story as a coverage line shows it."""

    outlet: str
    language: str
    published_at: float  # UNIX seconds
    title: str = ""  # in the chat's language (its translation, else the original)
    link: str = ""


@dataclass(frozen=True)
class Room:
    """What a message has left: Telegram-counted text, formatting entities, raw markup."""

    text: int = MAX_LENGTH
    entities: int = MAX_ENTITIES
    markup: int = MAX_MARKUP

    @classmethod
    def under(cls, markup: str, plain: str, separator: int = 2) -> Room:
        """The room left under a message already holding `markup` (text `plain`)
        and a separator of `separator` characters."""
        return cls(MAX_LENGTH - telegram_length(plain) - separator,
                   MAX_ENTITIES - len(_OPENING_TAG.findall(markup)),
                   MAX_MARKUP - len(markup) - separator)


@dataclass(frozen=True)
class _Line:
    markup: str
    plain: str
    entities: int


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _fill(template: str, **values: tuple[str, str]) -> tuple[str, str]:
    """A catalog template filled with (markup, plain) values: (markup, plain)."""
    markup = _e(template).format(**{k: v[0] for k, v in values.items()})
    plain = template.format(**{k: v[1] for k, v in values.items()})
    return markup, plain


def counts(items: Sequence[CoverageItem]) -> tuple[int, int]:
    """(outlets, languages) of a story."""
    return len({i.outlet for i in items}), len({i.language for i in items})


def count_line(items: Sequence[CoverageItem], lang: str) -> str:
    """'5 outlets · 3 languages' (plain text)."""
    outlets, languages = counts(items)
    return f"{plural(lang, 'stories.outlets', outlets)} · " \
        f"{plural(lang, 'stories.languages', languages)}"


def when(published_at: float, now: float, zone: tzinfo, lang: str) -> str:
    """'22:13' today (in `zone`), 'Nov 21, 22:13' another day, as `lang` writes them."""
    clock = format_clock(published_at, zone, lang)
    day = local(published_at, zone).date()
    if day == local(now, zone).date():
        return clock
    return t(lang, "stories.dated", day=format_day(day, lang), time=clock)


def newest_last(items: Sequence[CoverageItem]) -> list[CoverageItem]:
    """By publication time; entries published at the same second keep their order."""
    return sorted(items, key=lambda item: item.published_at)


def _linked_title(item: CoverageItem, limit: int) -> tuple[str, str, int]:
    """(markup, plain, entities) of an entry's title, a link when it has an http(s) one."""
    title = shorten(clean(item.title), limit) or clean(item.outlet)
    if item.link.lower().startswith(("http://", "https://")):
        return f'<a href="{_e(item.link)}">{_e(title)}</a>', title, 1
    return _e(title), title, 0


def _coverage_line(item: CoverageItem, lang: str, zone: tzinfo, now: float) -> _Line:
    markup, plain, entities = _linked_title(item, LINE_TITLE_LENGTH)
    source = t(lang, "stories.source", outlet=clean(item.outlet), language=item.language,
               when=when(item.published_at, now, zone, lang))
    template = t(lang, "stories.line", title="{title}", source="{source}")
    markup, plain = _fill(template, title=(markup, plain),
                          source=(_e(source), source))
    return _Line(markup, plain, entities)


def coverage_line(item: CoverageItem, lang: str = "en", zone: tzinfo = UTC,
                  now: float | None = None) -> str:
    """One 'Also covered by' line: '<a href=…>Title</a> — BBC (en) 22:13' (HTML)."""
    now = item.published_at if now is None else now
    return _coverage_line(item, lang, zone, now).markup


def _fold(head: Sequence[_Line], lines: Sequence[_Line], tail: Sequence[_Line],
          more: Callable[[int], _Line], room: Room, gap: str = "\n") -> str | None:
    """`head`, then the newest of `lines` that fit in `room` after a '+N more' line for
    the oldest, then `tail`, one `gap` between each; None when not even the newest line
    fits. Lengths add up line by line, so a long story costs one pass."""
    def size(shown: Sequence[_Line]) -> tuple[int, int, int]:
        return (sum(telegram_length(x.plain) for x in shown),
                sum(len(x.markup) for x in shown), sum(x.entities for x in shown))

    fixed_text, fixed_markup, fixed_entities = size([*head, *tail])
    text, markup, entities = size(lines)
    for folded in range(len(lines)):
        extra = [more(folded)] if folded else []
        more_text, more_markup, more_entities = size(extra)
        count = len(head) + len(tail) + len(extra) + len(lines) - folded
        gaps = max(count - 1, 0) * len(gap)
        if (fixed_text + text + more_text + gaps <= room.text
                and fixed_markup + markup + more_markup + gaps <= room.markup
                and fixed_entities + entities + more_entities <= room.entities):
            return gap.join(x.markup for x in [*head, *extra, *lines[folded:], *tail])
        dropped = lines[folded]
        text -= telegram_length(dropped.plain)
        markup -= len(dropped.markup)
        entities -= dropped.entities
    return None


def _more(story_id: int, lang: str):
    def line(n: int) -> _Line:
        text = plural(lang, "stories.more", n, id=story_id)
        return _Line(_e(text), text, 0)
    return line


def coverage_block(others: Sequence[CoverageItem], story: Sequence[CoverageItem],
                   story_id: int, lang: str, zone: tzinfo = UTC, now: float = 0.0,
                   room: Room | None = None) -> str | None:
    """The lines a grown alert ends with: 'Also covered by:', one line per other entry,
    newest last, then the count. Within `room`: the oldest lines fold into '+N more:
    /story ID'. Empty when there is no other entry; None when not even the newest
    line fits."""
    if not others:
        return ""
    head_text, tail_text = t(lang, "stories.also_covered"), count_line(story, lang)
    head = _Line(f"<i>{_e(head_text)}</i>", head_text, 1)
    tail = _Line(f"<b>{_e(tail_text)}</b>", tail_text, 1)
    lines = [_coverage_line(item, lang, zone, now) for item in newest_last(others)]
    return _fold([head], lines, [tail], _more(story_id, lang), room or Room())


def new_lines(items: Sequence[CoverageItem], story_id: int, lang: str, zone: tzinfo = UTC,
              now: float = 0.0) -> str | None:
    """The reply that says what an edit could not: the new entries' lines only, newest
    last; None when there is none."""
    lines = [_coverage_line(item, lang, zone, now) for item in newest_last(items)]
    if not lines:
        return None
    return _fold([], lines, [], _more(story_id, lang), Room())


def grown_alert(alert: str, alert_plain: str, others: Sequence[CoverageItem],
                story: Sequence[CoverageItem], story_id: int, lang: str,
                zone: tzinfo = UTC, now: float = 0.0) -> str | None:
    """The story message: the alert (`alert_plain` its text as Telegram shows it) with
    the rest of the story under it, all within one message; None when even the newest
    line does not fit under the alert."""
    block = coverage_block(others, story, story_id, lang, zone, now,
                           Room.under(alert, alert_plain))
    if block is None:
        return None
    return f"{alert}\n\n{block}" if block else alert


def story_count_block(story: Sequence[CoverageItem], lang: str) -> str:
    """`each` mode's line under an entry that joined a story."""
    return f"<i>{_e(t(lang, 'stories.story_line', count=count_line(story, lang)))}</i>"


def language_reply(language: str, outlets: Sequence[str], lang: str) -> str:
    """'Now in Russian: TASS' — the story crossed into `language`."""
    names = ", ".join(dict.fromkeys(clean(o) for o in outlets))
    return _e(t(lang, f"stories.now_in.{language}", outlets=names))


def first_per_language(items: Sequence[CoverageItem]) -> list[CoverageItem]:
    """The first entry published in each language, in the order the languages came."""
    first: dict[str, CoverageItem] = {}
    for item in newest_last(items):
        first.setdefault(item.language, item)
    return list(first.values())


def story_listing(story_id: int, items: Sequence[CoverageItem], uncovered: Sequence[str],
                  lang: str, zone: tzinfo = UTC, now: float = 0.0) -> str:
    """/story's answer (HTML): the count, the first outlet in each language, every entry
    (time, outlet, language, its title as a link) newest last, then who has not covered
    it yet; at most 4096 characters, the oldest entries folding into '+N more'."""
    head_text = t(lang, "stories.header", id=story_id, count=count_line(items, lang))
    firsts = ", ".join(f"{clean(i.outlet)} ({i.language})" for i in first_per_language(items))
    first_text = t(lang, "stories.firsts", outlets=firsts)
    head = _Line(f"<b>{_e(head_text)}</b>\n{_e(first_text)}", f"{head_text}\n{first_text}", 1)
    blocks = []
    for item in newest_last(items):
        markup, plain, entities = _linked_title(item, TITLE_LENGTH)
        source = t(lang, "stories.source", outlet=clean(item.outlet), language=item.language,
                   when=when(item.published_at, now, zone, lang))
        blocks.append(_Line(f"<i>{_e(source)}</i>\n{markup}", f"{source}\n{plain}",
                            entities + 1))
    tail_text = shorten(t(lang, "stories.not_covered", outlets=", ".join(uncovered))
                        if uncovered else t(lang, "stories.all_covered"), 1000)
    tail = _Line(_e(tail_text), tail_text, 0)
    listing = _fold([head], blocks, [tail], _more(story_id, lang), Room(), gap="\n\n")
    if listing is None:  # no entry fits whole: the head and tail still answer
        listing = f"{head.markup}\n\n{tail.markup}"
    return listing
