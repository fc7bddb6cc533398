"""One feed's refresh as a value: fetch -> parse -> the FeedUpdate its poll decides.

Nothing here writes: the poller hands the update to `store/entries.apply_feed_update`
(one transaction), and matching later takes the entries it flagged as pending.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime

import httpx

from bot.config import PollingConfig
from bot.feeds.adaptive import requested_delay
from bot.feeds.fetch import fetch_feed
from bot.feeds.hints import DocumentHints, document_hints
from bot.feeds.parse import parse_entries
from bot.feeds.parse_pool import ParsePool
from bot.feeds.schedule import next_poll_after_success
from bot.feeds.telegram_preview import is_channel_url, parse_channel_page, preview_address
from bot.feeds.update import plan_update
from bot.feeds.websub import discover_hub
from bot.model import Entry, Feed, FeedState, FeedUpdate, StoredEntry, WebSubHub
from bot.store.db import Database
from bot.store.entries import apply_feed_update, known_entries, stored_entries
from bot.store.feeds import DueFeed

Parse = Callable[..., list[Entry]]  # parse_entries' signature; run in a worker process


async def refresh_feed(db: Database, client: httpx.AsyncClient, pool: ParsePool,
                       due: DueFeed, polling: PollingConfig, now: float, *,
                       interval: float, retention: float, rng: random.Random,
                       parse: Parse = parse_entries, websub: bool = False,
                       admins: tuple[int, ...] = ()) -> tuple[FeedUpdate, int | None]:
    """(the update, entries in the document or None for a 304) for one poll; FeedError
    if the feed failed.

    A 304 keeps the validators and changes nothing else; a 200 is parsed in `pool`
    (under its deadline) and compared with the keys the feed has stored. The next poll
    comes after `interval`, never sooner than the feed asked (`<ttl>`, Cache-Control,
    Expires, Retry-After). A Telegram channel is fetched from its preview address and
    read as a preview page; with `websub`, a hub the feed advertises is noted.
    """
    feed = due.feed
    channel = is_channel_url(feed.url)
    result = await fetch_feed(client, preview_address(feed.url, polling.telegram_preview_url),
                              polling, etag=due.etag, last_modified=due.last_modified)
    hints = DocumentHints() if result.not_modified or channel else document_hints(result.body)
    asked = requested_delay(result.hints, hints.ttl_minutes, now)
    next_at = max(next_poll_after_success(now, interval, rng), now + asked)
    if result.not_modified:
        state = FeedState(now, next_at, due.etag, due.last_modified, due.baseline_done,
                          interval)
        return FeedUpdate(feed, now, state=state), None
    entries = await pool.run(parse_channel_page if channel else parse, result.body,
                             result.content_type, feed.language,
                             datetime.fromtimestamp(now, UTC),
                             feed.url if channel else result.url)
    known, seen_as = await known_entries(db, feed.id, entries)
    state = FeedState(now, next_at, result.etag, result.last_modified, True, interval)
    hub = None
    if websub and not channel:
        found = discover_hub(hints.links, result.hints.get("link", ""), feed.url)
        if found is not None:
            hub = WebSubHub(found.hub, found.topic, secrets.token_hex(20),
                            secrets.token_urlsafe(18))
    update = plan_update(feed, entries, known, now, baseline=not due.baseline_done,
                         retention=retention, seen_as=seen_as, state=state,
                         max_new=polling.max_new_entries)
    return replace(update, hub=hub, tell=admins if update.capped else ()), len(entries)


async def remember_entries(db: Database, feed: Feed, entries: Iterable[Entry], now: float,
                           baseline: bool, retention: float = 30 * 86400.0
                           ) -> list[StoredEntry]:
    """Store entries that came without a fetch (as a poll would, its feed state untouched);
    those now waiting for matching, with their ids."""
    entries = list(entries)
    known, seen_as = await known_entries(db, feed.id, entries)
    update = plan_update(feed, entries, known, now, baseline=baseline, retention=retention,
                         seen_as=seen_as)
    await apply_feed_update(db, update)
    return await stored_entries(db, feed.id,
                                [e.key for e in update.new if e.key in update.pending])
