"""A period's matches -> the digest's Telegram HTML messages, and the surge alert's text.

Pure: stories per topic, most covered first; split into several messages only
where one would pass Telegram's 4096 characters (UTF-16 units, as parsed).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.alerts.render import clean, shorten, telegram_length
from bot.telegram.i18n import plural, t

MESSAGE_LIMIT = 4096
TITLE_LENGTH = 300


@dataclass(frozen=True)
class DigestEntry:
    """One match waiting for a digest, as grouping and rendering need it."""

    topic: str
    topic_title: str
    story: str  # entries with the same story key report the same event
    entry_id: int
    title: str
    language: str
    outlet: str
    matched_at: float


@dataclass(frozen=True)
class DigestStory:
    story: str
    title: str  # of its first entry, as found; translated before rendering
    title_language: str
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    entries: int
    first_at: float
    first_entry: int


@dataclass(frozen=True)
class DigestTopic:
    topic: str
    title: str
    stories: tuple[DigestStory, ...]


def group_digest(entries: Iterable[DigestEntry]) -> list[DigestTopic]:
    """Topics (by most coverage) each with its stories, most covered first: more entries,
    then more outlets, then the earlier story."""
    topics: dict[str, tuple[str, dict[str, list[DigestEntry]]]] = {}
    for entry in sorted(entries, key=lambda e: (e.matched_at, e.entry_id)):
        _, stories = topics.setdefault(entry.topic, (entry.topic_title, {}))
        stories.setdefault(entry.story, []).append(entry)
    grouped = []
    for name, (title, stories) in topics.items():
        built = [_story(key, members) for key, members in stories.items()]
        built.sort(key=lambda s: (-s.entries, -len(s.outlets), s.first_at, s.first_entry))
        grouped.append(DigestTopic(name, title, tuple(built)))
    grouped.sort(key=lambda g: (-sum(s.entries for s in g.stories), g.topic))
    return grouped


def _story(key: str, members: list[DigestEntry]) -> DigestStory:
    first = members[0]
    return DigestStory(
        story=key, title=first.title, title_language=first.language,
        outlets=tuple(dict.fromkeys(m.outlet for m in members)),
        languages=tuple(dict.fromkeys(m.language for m in members)),
        entries=len({m.entry_id for m in members}), first_at=first.matched_at,
        first_entry=first.entry_id)


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def render_digest(language: str, period: str, topics: list[DigestTopic],
                  titles: Mapping[str, str] | None = None) -> list[str]:
    """The digest's messages in `language`; `titles` maps a story key to its title in that
    language (the story's own title otherwise). Empty when there is nothing to list."""
    titles = titles or {}
    count = sum(len(topic.stories) for topic in topics)
    if not count:
        return []
    blocks: list[tuple[str, str]] = []  # (html, plain) per block; Telegram counts the plain
    header = t(language, "digest.header", period=period,
               stories=plural(language, "digest.stories", count))
    blocks.append((f"<b>{_e(header)}</b>", header))
    for topic in topics:
        blocks.append((f"\n<b>{_e(topic.title)}</b>", f"\n{topic.title}"))
        for story in topic.stories:
            title = shorten(clean(titles.get(story.story, story.title)), TITLE_LENGTH)
            facts = t(language, "digest.story",
                      entries=plural(language, "digest.entries", story.entries),
                      outlets=", ".join(story.outlets),
                      languages=" · ".join(story.languages))
            blocks.append((f"• {_e(title)}\n  <i>{_e(facts)}</i>", f"• {title}\n  {facts}"))
    return _pack(blocks)


def _pack(blocks: list[tuple[str, str]]) -> list[str]:
    """Whole blocks per message, as many as fit; a new message only past the limit.

    A block that alone passes the limit (a story covered by hundreds of outlets) is
    shortened to fit, as plain text: a message Telegram refuses would lose the
    whole digest, whose matches it has already taken."""
    parts: list[str] = []
    markup: list[str] = []
    length = 0
    for block_html, plain in blocks:
        if telegram_length(plain) > MESSAGE_LIMIT:
            plain = shorten(plain, MESSAGE_LIMIT)
            block_html = _e(plain)
        size = telegram_length(plain) + (1 if markup else 0)
        if markup and length + size > MESSAGE_LIMIT:
            parts.append("\n".join(markup))
            markup, length, size = [], 0, telegram_length(plain)
        markup.append(block_html)
        length += size
    if markup:
        parts.append("\n".join(markup))
    return parts


def render_surge(language: str, topic_title: str, entries: int, window_hours: float,
                 languages: int, ratio: float | None) -> str:
    """"TOPIC: N entries in 2 h across L languages, X× the 7-day rate" in `language`."""
    hours = f"{window_hours:g}"
    counted = {"entries": plural(language, "surge.entries", entries),
               "languages": plural(language, "surge.languages", languages)}
    if ratio is None:
        text = t(language, "surge.alert_new", topic=topic_title, hours=hours, **counted)
    else:
        text = t(language, "surge.alert", topic=topic_title, hours=hours, **counted,
                 ratio=f"{ratio:.1f}".removesuffix(".0"))
    return f"📈 {_e(text)}"
