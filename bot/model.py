"""The domain's nouns as plain frozen dataclasses; every layer speaks these."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.links import canonical_link

LANGUAGES: tuple[str, ...] = ("en", "fr", "ru")


@dataclass(frozen=True)
class Feed:
    id: int
    url: str
    language: str
    name: str
    interval: float | None = None  # seconds; None means [polling].interval


@dataclass(frozen=True)
class FeedHealth:
    """What `/feeds` shows and what the scheduler decides from."""

    feed_id: int
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    failing_since: float | None
    consecutive_failures: int
    next_poll_at: float
    entries_seen: int
    last_new_at: float | None = None  # a poll last found an entry not seen before
    poll_interval: float | None = None  # what the last poll chose until the next

    def stale(self, now: float, after: float) -> bool:
        """Answering, but with nothing new for `after` seconds (health.stale_after)."""
        return (self.failing_since is None and self.last_success_at is not None
                and self.last_new_at is not None and self.last_new_at <= now - after)


@dataclass(frozen=True)
class Entry:
    """One feed item, converted once at the parsing edge."""

    key: str  # stable per feed: guid, else canonical link, else content hash
    link: str  # as published, tracking parameters removed, nothing re-encoded
    title: str  # plain text
    summary: str  # plain text
    published: datetime  # UTC; first-seen time when the feed gives none
    language: str

    @property
    def alert_key(self) -> str:
        """Identity for alerting: the same link in two feeds is one story item, and an
        item without a link is its text (a guid may change at every poll)."""
        return canonical_link(self.link) if self.link else content_key(self.title, self.summary)


_SPACES = re.compile(r"\s+")


def content_key(title: str, summary: str) -> str:
    """A linkless item's identity: its title and summary, case and spacing aside."""
    text = _SPACES.sub(" ", f"{title}\n{summary}").strip().casefold()
    return "text:" + hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class StoredEntry:
    id: int
    feed_id: int
    entry: Entry


@dataclass(frozen=True)
class FeedState:
    """What a successful poll leaves for the next one."""

    polled_at: float
    next_poll_at: float
    etag: str | None
    last_modified: str | None
    baseline_done: bool  # a parsed document's entries were recorded as the baseline
    interval: float | None = None  # seconds this poll chose until the next (adaptive)


@dataclass(frozen=True)
class FeedUpdate:
    """What one poll of one feed changes, decided before anything is written: the
    store applies it in one transaction (`store/entries.apply_feed_update`)."""

    feed: Feed
    now: float
    new: tuple[Entry, ...] = ()  # first seen in this feed: to store
    pending: frozenset[str] = frozenset()  # keys of `new` that wait for matching
    seen: tuple[str, ...] = ()  # keys stored before and still listed: kept alive
    state: FeedState | None = None  # None: the feed's poll state is left as it is
    hub: WebSubHub | None = None  # the WebSub hub the document or its headers advertise
    capped: int = 0  # new entries this poll brought past polling.max_new_entries (0: none)
    tell: tuple[int, ...] = ()  # admins to tell, once a day, when the poll was capped


@dataclass(frozen=True)
class WebSubHub:
    """A hub a feed advertised, with the secret and callback token we would subscribe
    with (kept only if the feed has no subscription with that hub yet)."""

    hub: str
    topic: str
    secret: str
    token: str


@dataclass(frozen=True)
class Topic:
    name: str
    title: str  # as first written; the title in a language without its own
    queries: dict[str, str] = field(default_factory=dict)  # language -> query text
    titles: dict[str, str] = field(default_factory=dict)  # language -> title shown in it
    owner_id: int | None = None  # a personal topic's user (= their private chat); None: shared

    def title_in(self, language: str) -> str:
        """The title a chat reading `language` sees."""
        return self.titles.get(language) or self.title


@dataclass(frozen=True)
class Match:
    entry_id: int
    topic: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Chat:
    id: int
    type: str  # private | group | supergroup | channel | console
    language: str
    title: str = ""
    active: bool = True
    timezone: str | None = None  # IANA name; None: bot.default_timezone


@dataclass(frozen=True)
class Subscription:
    chat_id: int
    topic: str
    thread_id: int | None = None


@dataclass(frozen=True)
class StoredText:
    """A stored entry's text, as a backtest reads it."""

    language: str
    title: str
    summary: str


@dataclass(frozen=True)
class SearchableEntry:
    """A stored entry as /search reads it."""

    id: int
    language: str
    title: str
    summary: str
    link: str
    outlet: str
    published_at: float
