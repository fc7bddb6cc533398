"""`coverage-bot preview`: fetch every feed once, print what each topic would match now,
and which story each matched entry would join.

Stores nothing and sends nothing. Feeds and topics are the service's: the database's
(chat edits included) when it exists, with the config file's entries that are new or
changed since the last start, as the next start would load them; else the config's.
Stories are grouped in memory, without pivot translations (nothing is translated).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import httpx

from bot.config import Config, FeedConfig, TopicConfig
from bot.feeds import one_line
from bot.feeds.fetch import FetchError, make_client
from bot.feeds.poll import fetch_and_parse
from bot.matching.index import TopicIndex, TopicQuery, compile_topics
from bot.model import Entry
from bot.store.config_seeds import entry_digest
from bot.store.sources import StoredSources, read_sources
from bot.stories.cluster import OpenStories
from bot.stories.similarity import story_signature


@dataclass(frozen=True)
class PreviewMatch:
    topic: str
    feed: FeedConfig
    entry: Entry
    terms: tuple[str, ...]
    story: int = 0  # the in-memory story the entry joined (numbered from 1)

    def as_json(self) -> str:
        return json.dumps({
            "topic": self.topic, "feed": self.feed.url, "language": self.entry.language,
            "link": self.entry.link, "title": self.entry.title, "terms": list(self.terms),
            "story": self.story,
        }, ensure_ascii=False)

    def as_text(self) -> str:
        outlet = self.feed.name or self.feed.url
        return (f"[{self.topic}] {outlet} ({self.entry.language}): {self.entry.title}\n"
                f"    {self.entry.link}\n    matched: {', '.join(self.terms)}"
                f" · story {self.story}")


@dataclass
class PreviewStories:
    """Matched entries grouped into stories as the service would, numbered from 1."""

    window: float
    open: OpenStories = field(default_factory=OpenStories)
    of_link: dict[str, int] = field(default_factory=dict)

    def story_of(self, entry: Entry, now: float, feed: str = "") -> int:
        if entry.alert_key in self.of_link:  # several topics, one entry: one story
            return self.of_link[entry.alert_key]
        signature = story_signature(entry.title, entry.summary, entry.language, entry.link,
                                    source=feed)
        story = self.open.best_story(signature, now, self.window)
        if story is None:
            story = len(self.open) + 1
            self.open.add(story, signature, now)
        else:
            self.open.join(story, signature, now)
        self.of_link[entry.alert_key] = story
        return story


@dataclass(frozen=True)
class Sources:
    feeds: tuple[FeedConfig, ...]
    topics: tuple[TopicConfig, ...]


def service_sources(config: Config, stored: StoredSources | None) -> Sources:
    """What the service would poll and match at its next start: the stored feeds and
    topics, each config entry new or changed since the last start taking the file's
    values (the rule of `store/config_seeds.py`); the config alone without a database."""
    if stored is None:
        return Sources(config.feeds, config.topics)

    def merged(kind: str, stored_items, file_items, key):
        items = {key(item): item for item in stored_items}
        for item in file_items:
            if stored.seeds.get((kind, key(item))) != entry_digest(item):
                items[key(item)] = item
        return tuple(items.values())

    return Sources(merged("feed", stored.feeds, config.feeds, lambda f: f.url),
                   merged("topic", stored.topics, config.topics, lambda t: t.name))


def compile_config_topics(config: Config | Sources, only: str | None = None) -> TopicIndex:
    names = {t.name for t in config.topics}
    if only is not None and only not in names:
        raise ValueError(f"unknown topic {only!r} (known: {', '.join(sorted(names)) or 'none'})")
    return compile_topics(
        TopicQuery(topic=t.name, language=lang, query=query)
        for t in config.topics if only is None or t.name == only
        for lang, query in t.queries.items()
    )


def matches_in(index: TopicIndex, feed: FeedConfig, entries: list[Entry],
               stories: PreviewStories | None = None) -> list[PreviewMatch]:
    found = []
    now = time.time()
    for entry in entries:
        matches = index.match(entry.title, entry.summary, entry.language)
        story = stories.story_of(entry, now, feed.url) if stories is not None and matches else 0
        for match in matches:
            found.append(PreviewMatch(match.topic, feed, entry, match.terms, story))
    return found


async def run_preview(config: Config, *, topic: str | None, as_json: bool, out: TextIO) -> int:
    """Print matches feed by feed as they arrive; a failing feed is one line on stderr.
    The exit status: 1 if any feed could not be read, else 0."""
    sources = service_sources(config, await asyncio.to_thread(read_sources,
                                                              config.storage.database))
    index = compile_config_topics(sources, topic)
    semaphore = asyncio.Semaphore(config.polling.concurrency)
    failures = 0
    stories = PreviewStories(config.stories.window)

    async with make_client(config.polling) as client:
        async def one(feed: FeedConfig) -> tuple[FeedConfig, list[Entry] | str]:
            async with semaphore:
                try:
                    return feed, await fetch_and_parse(client, feed.url, feed.language,
                                                       config.polling)
                except (FetchError, httpx.HTTPError) as exc:
                    return feed, one_line(exc)
                except Exception as exc:  # one feed's surprise is that feed's line, no more
                    return feed, f"unexpected error: {type(exc).__name__}: {one_line(exc)}"

        for next_done in asyncio.as_completed([one(f) for f in sources.feeds]):
            feed, result = await next_done
            if isinstance(result, str):
                failures += 1
                print(f"coverage-bot: {feed.url}: {result}", file=sys.stderr)
                continue
            for match in matches_in(index, feed, result, stories):
                print(match.as_json() if as_json else match.as_text(), file=out, flush=True)
    return 1 if failures else 0  # SPEC: 1 when any feed could not be read
