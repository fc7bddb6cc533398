"""`coverage-bot preview`: fetch every feed once, print what each topic would match now.

Stores nothing and sends nothing: feeds and topics come straight from the config.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import TextIO

import httpx

from bot.config import Config, FeedConfig
from bot.feeds.fetch import FetchError, make_client
from bot.feeds.poll import fetch_and_parse
from bot.matching.index import TopicIndex, TopicQuery, compile_topics
from bot.model import Entry


@dataclass(frozen=True)
class PreviewMatch:
    topic: str
    feed: FeedConfig
    entry: Entry
    terms: tuple[str, ...]

    def as_json(self) -> str:
        return json.dumps({
            "topic": self.topic, "feed": self.feed.url, "language": self.entry.language,
            "link": self.entry.link, "title": self.entry.title, "terms": list(self.terms),
        }, ensure_ascii=False)

    def as_text(self) -> str:
        outlet = self.feed.name or self.feed.url
        return (f"[{self.topic}] {outlet} ({self.entry.language}): {self.entry.title}\n"
                f"    {self.entry.link}\n    matched: {', '.join(self.terms)}")


def compile_config_topics(config: Config, only: str | None = None) -> TopicIndex:
    names = {t.name for t in config.topics}
    if only is not None and only not in names:
        raise ValueError(f"unknown topic {only!r} (known: {', '.join(sorted(names)) or 'none'})")
    return compile_topics(
        TopicQuery(topic=t.name, language=lang, query=query)
        for t in config.topics if only is None or t.name == only
        for lang, query in t.queries.items()
    )


def matches_in(index: TopicIndex, feed: FeedConfig, entries: list[Entry]) -> list[PreviewMatch]:
    found = []
    for entry in entries:
        for match in index.match(entry.title, entry.summary, entry.language):
            found.append(PreviewMatch(match.topic, feed, entry, match.terms))
    return found


async def run_preview(config: Config, *, topic: str | None, as_json: bool, out: TextIO) -> int:
    """Print matches feed by feed as they arrive; a failing feed is one line on stderr."""
    index = compile_config_topics(config, topic)
    semaphore = asyncio.Semaphore(config.polling.concurrency)
    failures = 0

    async with make_client(config.polling) as client:
        async def one(feed: FeedConfig) -> tuple[FeedConfig, list[Entry] | str]:
            async with semaphore:
                try:
                    return feed, await fetch_and_parse(client, feed.url, feed.language,
                                                       config.polling)
                except (FetchError, httpx.HTTPError) as exc:
                    return feed, str(exc) or type(exc).__name__

        for next_done in asyncio.as_completed([one(f) for f in config.feeds]):
            feed, result = await next_done
            if isinstance(result, str):
                failures += 1
                print(f"coverage-bot: {feed.url}: {result}", file=sys.stderr)
                continue
            for match in matches_in(index, feed, result):
                print(match.as_json() if as_json else match.as_text(), file=out, flush=True)
    return 0
