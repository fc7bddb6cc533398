"""A poll's parsed entries and the keys already stored -> the FeedUpdate to apply (pure)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bot.model import Entry, Feed, FeedState, FeedUpdate


def plan_update(feed: Feed, entries: Iterable[Entry], known: Collection[str], now: float, *,
                baseline: bool, retention: float, seen_as: Collection[str] = (),
                state: FeedState | None = None, max_new: int | None = None) -> FeedUpdate:
    """`known`: the feed's stored keys that are among `entries` (by key, or by link:
    `seen_as` holds their alert keys, so an item whose guid changes at every poll is
    not new each time). Known entries are kept alive.

    New means: the first time this feed shows this entry (a link another feed stored
    is new for this one too: its own language query decides, and the outbox keeps one
    message per link and chat). A new entry waits for matching unless this is the
    feed's baseline poll (only recorded as seen), it was published before `retention`,
    or its link came earlier in the same poll. At most `max_new` wait (the newest): a
    feed that suddenly lists thousands of items cannot flood every chat; the rest are
    recorded as seen and the update says how many came (`capped`)."""
    batch: dict[str, Entry] = {}
    for entry in entries:
        batch.setdefault(entry.key, entry)
    new = tuple(entry for key, entry in batch.items()
                if key not in known and entry.alert_key not in seen_as)
    pending: set[str] = set()
    if not baseline:
        oldest = now - retention
        links: set[str] = set()
        for entry in new:
            if entry.alert_key in links or entry.published.timestamp() < oldest:
                continue
            links.add(entry.alert_key)
            pending.add(entry.key)
    capped = 0
    if max_new is not None and len(pending) > max_new:
        capped = len(pending)
        newest = sorted((e for e in new if e.key in pending), key=lambda e: e.published,
                        reverse=True)[:max_new]
        pending = {e.key for e in newest}
    return FeedUpdate(feed=feed, now=now, new=new, pending=frozenset(pending),
                      seen=tuple(sorted(known)), state=state, capped=capped)
