"""The match stage: new entries -> topic matches, handed to the cluster stage.

It owns the live TopicIndex. Admin edits swap in a new index built by
copy-on-write (`with_topic` / `without_topic`), so a batch being matched keeps a
consistent view and an edit costs milliseconds however many topics there are.
An entry whose matching fails is kept and matched again while the service runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.backoff import backoff_delay
from bot.matching.index import (
    EMPTY_INDEX,
    TopicIndex,
    TopicQuery,
    TopicQueryError,
    compile_topics,
    validate_topics,
)
from bot.model import Feed, StoredEntry, Topic
from bot.store.db import Database
from bot.store.entries import mark_matched, pending_entries
from bot.store.topics import list_topics
from bot.stories.stage import ClusterStage

log = logging.getLogger(__name__)


def _queries(topics: list[Topic]) -> list[TopicQuery]:
    return [TopicQuery(t.name, language, query)
            for t in topics for language, query in t.queries.items()]


def compile_stored_topics(topics: list[Topic]) -> TopicIndex:
    """Compile every topic; one whose stored query is refused is left out and logged."""
    queries = _queries(topics)
    refused = {error.topic for error in validate_topics(queries)}
    for name in sorted(refused):
        log.error("topic %s has a malformed query and is not matched; fix it with /setquery", name)
    return compile_topics(q for q in queries if q.topic not in refused)


class MatchStage:
    def __init__(self, db: Database, index: TopicIndex = EMPTY_INDEX,
                 on_recorded: Callable[[], None] = lambda: None,
                 cluster: ClusterStage | None = None, window: float = 48 * 3600.0) -> None:
        self.db = db
        self.index = index
        self.on_recorded = on_recorded  # the queue has new rows: wakes the send stage
        self.cluster = cluster or ClusterStage(db, window)
        self.retry_base = 1.0  # seconds before an entry that failed is matched again, doubling
        self.retry_max = 3600.0
        # entry id -> (feed, entry, failures, monotonic time of the next try)
        self._failed: dict[int, tuple[Feed, StoredEntry, int, float]] = {}
        self._wake = asyncio.Event()

    @classmethod
    async def load(cls, db: Database, on_recorded: Callable[[], None] = lambda: None,
                   cluster: ClusterStage | None = None) -> MatchStage:
        return cls(db, compile_stored_topics(await list_topics(db)), on_recorded,
                   cluster or await ClusterStage.load(db, 48 * 3600.0))

    async def topics_changed(self) -> None:
        """Bring the index in line with the stored topics, recompiling only what differs."""
        stored = {t.name: dict(t.queries) for t in await list_topics(self.db)}
        index = self.index
        for name in set(index.topics) - stored.keys():
            index = index.without_topic(name)
        for name, queries in stored.items():
            if index.queries(name) != queries:
                try:
                    index = index.with_topic(name, queries)
                except TopicQueryError as error:
                    log.error("topic %s not updated: %s", name, error)
        self.index = index

    async def on_new_entries(self, feed: Feed, entries: list[StoredEntry],
                             now: float | None = None) -> int:
        """Match each new entry and store its matches with their outbox rows; rows queued.

        An entry whose matching or recording fails is kept and tried again while
        the service runs (`run`), with backoff; the others go on.
        """
        index = self.index
        queued = 0
        unmatched = []
        matched = []
        for stored in entries:
            entry = stored.entry
            try:
                found = index.match(entry.title, entry.summary, entry.language)
            except Exception as exc:
                self._failed_entry(feed, stored, exc)
                continue
            if found:
                matched.append((stored, [(m.topic, tuple(m.terms)) for m in found]))
            else:
                unmatched.append(stored)
        # The poll's pivot translations at once (each one call, shared through the cache),
        # then each entry placed in turn: a later entry may join a story an earlier started.
        signatures = await asyncio.gather(*(self.cluster.signature(stored.entry)
                                            for stored, _ in matched), return_exceptions=True)
        for (stored, found), signature in zip(matched, signatures):
            try:
                if isinstance(signature, BaseException):
                    raise signature
                recorded = await self.cluster.place(stored, found,
                                                    time.time() if now is None else now,
                                                    signature)
            except Exception as exc:
                self._failed_entry(feed, stored, exc)
                continue
            self._settled(stored)
            queued += recorded.queued
        try:
            await mark_matched(self.db, [stored.id for stored in unmatched])
        except Exception as exc:
            for stored in unmatched:
                self._failed_entry(feed, stored, exc)
        else:
            for stored in unmatched:
                self._settled(stored)
        if queued:
            self.on_recorded()
        return queued

    def _failed_entry(self, feed: Feed, stored: StoredEntry, exc: Exception) -> None:
        """Keep the entry to match again later; said once per entry, however often it fails."""
        failures = self._failed[stored.id][2] if stored.id in self._failed else 0
        if failures == 0:
            log.error("matching entry %s of %s failed (%r); trying again while running",
                      stored.id, feed.url, exc, exc_info=exc)
        delay = backoff_delay(failures, self.retry_base, self.retry_max)
        self._failed[stored.id] = (feed, stored, failures + 1, time.monotonic() + delay)
        self._wake.set()

    def _settled(self, stored: StoredEntry) -> None:
        if self._failed.pop(stored.id, None) is not None:
            log.info("entry %s matched and recorded after all", stored.id)

    async def run(self, stop: asyncio.Event) -> None:
        """Match again, each at its time, the entries whose matching failed in this run."""
        while not stop.is_set():
            self._wake.clear()
            now = time.monotonic()
            for feed, stored, _, due_at in list(self._failed.values()):
                if due_at <= now and not stop.is_set():
                    await self.on_new_entries(feed, [stored])
            next_at = min((due for *_, due in self._failed.values()), default=now + 3600.0)
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=max(0.01, next_at - time.monotonic()),
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()

    async def recover(self) -> int:
        """Match entries stored as new whose matching a crash or an error interrupted."""
        queued = 0
        after = 0  # once each: one that fails again waits for `run`, not for this loop
        while batch := await pending_entries(self.db, after=after):
            for feed, stored in batch:
                queued += await self.on_new_entries(feed, [stored])
            after = batch[-1][1].id
        return queued
