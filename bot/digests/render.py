"""A period's matches -> the digest's Telegram HTML messages, and the surge alert's text.

Pure: stories per topic, most covered first (the newest first among equals);
each title links to the story's first entry and names its /story id; split into
several messages only where one would pass Telegram's 4096 characters (UTF-16
units, as parsed). Numbers and durations as the chat's language writes them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.i18n import plural, t
from bot.locale_format import format_duration, format_number
from bot.message_text import clean, shorten, telegram_length

MESSAGE_LIMIT = 4096
TITLE_LENGTH = 300
STORIES_SHOWN = 10  # per topic; the rest are counted ("+N more")
SURGE_STORIES = 3

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
    link: str = ""
    published_at: float | None = None  # None: taken as matched_at
    story_id: int | None = None  # its /story id, when it is in a stored story

    @property
    def when(self) -> float:
        return self.matched_at if self.published_at is None else self.published_at


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
    link: str = ""  # of its first entry
    story_id: int | None = None
    latest_at: float = 0.0


@dataclass(frozen=True)
class DigestTopic:
    topic: str
    title: str
    stories: tuple[DigestStory, ...]


def group_digest(entries: Iterable[DigestEntry]) -> list[DigestTopic]:
    """Topics (by most coverage) each with its stories, most covered first: more entries,
    then more outlets, then the story published last (a day-old headline never leads
    one that broke within the hour)."""
    topics: dict[str, tuple[str, dict[str, list[DigestEntry]]]] = {}
    for entry in sorted(entries, key=lambda e: (e.when, e.entry_id)):
        _, stories = topics.setdefault(entry.topic, (entry.topic_title, {}))
        stories.setdefault(entry.story, []).append(entry)
    grouped = []
    for name, (title, stories) in topics.items():
        built = [_story(key, members) for key, members in stories.items()]
        built.sort(key=lambda s: (-s.entries, -len(s.outlets), -s.latest_at, -s.first_entry))
        grouped.append(DigestTopic(name, title, tuple(built)))
    grouped.sort(key=lambda g: (-sum(s.entries for s in g.stories), g.topic))
    return grouped


def _story(key: str, members: list[DigestEntry]) -> DigestStory:
    first = members[0]
    return DigestStory(
        story=key, title=first.title, title_language=first.language,
        outlets=tuple(dict.fromkeys(m.outlet for m in members)),
        languages=tuple(dict.fromkeys(m.language for m in members)),
        entries=len({m.entry_id for m in members}), first_at=first.when,
        first_entry=first.entry_id, link=first.link,
        story_id=next((m.story_id for m in members if m.story_id is not None), None),
        latest_at=members[-1].when)


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def story_link(language: str, title: str, link: str, story_id: int | None) -> tuple[str, str]:
    """(html, plain) of a story's line head: its title as a link to its first entry (when
    that is a web address) and its /story id."""
    title = shorten(clean(title), TITLE_LENGTH)
    markup = (f'<a href="{html.escape(link, quote=True)}">{_e(title)}</a>'
              if link.lower().startswith(("http://", "https://")) else _e(title))
    if story_id is None:
        return markup, title
    ref = t(language, "digest.story_ref", id=story_id)
    return f"{markup} · {_e(ref)}", f"{title} · {ref}"


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
        for story in topic.stories[:STORIES_SHOWN]:
            head, plain = story_link(language, titles.get(story.story, story.title),
                                     story.link, story.story_id)
            facts = t(language, "digest.story",
                      entries=plural(language, "digest.entries", story.entries),
                      outlets=", ".join(story.outlets),
                      languages=" · ".join(story.languages))
            # Hundreds of outlets can pass a message's length: the list is cut to fit.
            facts = shorten(facts, MESSAGE_LIMIT - telegram_length(f"• {plain}\n  "))
            blocks.append((f"• {head}\n  <i>{_e(facts)}</i>", f"• {plain}\n  {facts}"))
        hidden = len(topic.stories) - STORIES_SHOWN
        if hidden > 0:
            more = plural(language, "digest.more", hidden)
            blocks.append((f"<i>{_e(more)}</i>", more))
    return _pack(blocks)


def _pack(blocks: list[tuple[str, str]]) -> list[str]:
    """Whole blocks per message, as many as fit; a new message only past the limit.

    A block that alone still passes the limit is shortened to fit, as plain text:
    a message Telegram refuses would lose the whole digest, whose matches it has
    already taken."""
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


@dataclass(frozen=True)
class SurgeStory:
    """One of a surge's largest stories, its title already in the chat's language."""

    title: str
    link: str
    story_id: int | None
    entries: int


def render_surge(language: str, topic_title: str, entries: int, window: float,
                 languages: int, ratio: float | None,
                 stories: Sequence[SurgeStory] = ()) -> str:
    """"TOPIC: N entries in 2 hours across L languages, X× the 7-day rate" in `language`
    (`window` in seconds), then the surge's largest stories, each a linked title and
    its /story id."""
    values = {"topic": clean(topic_title).rstrip(" :\u00a0\u202f") or topic_title,
              "entries": plural(language, "surge.entries", entries),
              "languages": plural(language, "surge.languages", languages),
              "duration": format_duration(window, language)}
    if ratio is None:
        text = t(language, "surge.alert_new", **values)
    else:
        text = t(language, "surge.alert", **values, ratio=format_number(ratio, language))
    lines = [f"📈 {_e(text)}"]
    for story in stories[:SURGE_STORIES]:
        head, _ = story_link(language, story.title, story.link, story.story_id)
        count = plural(language, "surge.entries", story.entries)
        lines.append(f"• {head} <i>({_e(count)})</i>")
    return "\n".join(lines)
