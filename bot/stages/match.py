"""The match stage: entries waiting in the store -> topic matches, placed in stories.

It pulls its work. The poller stores new entries flagged `pending_match` and only
wakes this stage; the stage takes them from the store in batches, matches each
batch off the event loop (one thread, under a deadline), has the cluster stage
place every matched entry (matches, story and outbox rows in one transaction),
and settles the rest. The flag is the one record of what waits: an entry whose
matching or recording fails stays pending and is taken again later, with backoff.
A backlog of any size (a restart after downtime) is worked through batch by
batch, so replies, polling and a stop never wait for it.

It owns the live TopicIndex. Admin edits swap in a new index built by
copy-on-write (`with_topic` / `without_topic`), so a batch being matched keeps a
consistent view and an edit costs milliseconds however many topics there are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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
from bot.stages.cluster import ClusterStage
from bot.store.db import Database
from bot.store.entries import mark_matched, pending_entries
from bot.store.topics import list_topics

log = logging.getLogger(__name__)

BATCH = 200  # entries taken from the store at a time
MATCH_DEADLINE = 60.0  # one batch's matching (200 entries x 10,000 topics: ~1 s)
IDLE = 60.0  # a look at the store at least this often, woken or not

Found = list[tuple[str, tuple[str, ...]]]  # (topic, the terms that matched)


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


def match_batch(index: TopicIndex, entries: list[StoredEntry]) -> list[Found | Exception]:
    """Each entry's matches, or the exception matching it raised (pure; run in a thread)."""
    results: list[Found | Exception] = []
    for stored in entries:
        entry = stored.entry
        try:
            found = index.match(entry.title, entry.summary, entry.language)
            results.append([(m.topic, tuple(m.terms)) for m in found])
        except Exception as exc:
            results.append(exc)
    return results


class MatchStage:
    def __init__(self, db: Database, index: TopicIndex = EMPTY_INDEX,
                 cluster: ClusterStage | None = None, window: float = 48 * 3600.0, *,
                 pending: asyncio.Event | None = None,
                 queued: Callable[[], None] = lambda: None) -> None:
        """`pending` is set (by the poller) when entries may wait in the store; `queued`
        is told, without data, that outbox rows were written (it wakes the send stage)."""
        self.db = db
        self.index = index
        self.cluster = cluster or ClusterStage(db, window)
        self.pending = pending or asyncio.Event()
        self.queued = queued
        self.retry_base = 1.0  # seconds before entries that failed are taken again, doubling
        self.retry_max = 3600.0
        self._matcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matching")
        self._lock = asyncio.Lock()  # one pass at a time
        self._cursor = 0  # entries up to this id have been taken once in this run
        self._failing = 0  # retry passes in a row that still left entries failed
        self._retry_at: float | None = None  # monotonic time to take failed entries again

    @classmethod
    async def load(cls, db: Database, cluster: ClusterStage | None = None, *,
                   pending: asyncio.Event | None = None,
                   queued: Callable[[], None] = lambda: None) -> MatchStage:
        return cls(db, compile_stored_topics(await list_topics(db)),
                   cluster or await ClusterStage.load(db, 48 * 3600.0),
                   pending=pending, queued=queued)

    def close(self) -> None:
        self._matcher.shutdown(wait=False, cancel_futures=True)

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

    async def match_pending(self, now: float | None = None,
                            stop: asyncio.Event | None = None) -> int:
        """Take the entries waiting in the store, batch by batch, until none is left or
        `stop` is set; return the outbox rows queued. Entries that failed before are
        taken again once their backoff has passed; new ones at once."""
        async with self._lock:
            retry = self._retry_at is not None and time.monotonic() >= self._retry_at
            after = 0 if retry else self._cursor
            queued = failed = 0
            error: BaseException | None = None
            while not (stop is not None and stop.is_set()):
                batch = await pending_entries(self.db, limit=BATCH, after=after)
                if not batch:
                    break
                batch_queued, batch_failed, batch_error = await self._match(batch, now, stop)
                queued += batch_queued
                failed += batch_failed
                error = error or batch_error
                after = batch[-1][1].id
                self._cursor = max(self._cursor, after)
            self._settle(failed, error, retry)
        if queued:
            self.queued()
        return queued

    async def _match(self, batch: list[tuple[Feed, StoredEntry]], now: float | None,
                     stop: asyncio.Event | None) -> tuple[int, int, BaseException | None]:
        """One batch: (rows queued, entries failed, the first error)."""
        entries = [stored for _, stored in batch]
        try:
            results = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(
                self._matcher, match_batch, self.index, entries), MATCH_DEADLINE)
        except Exception as exc:  # TimeoutError too: the batch stays pending
            return 0, len(entries), exc
        failed = 0
        error: BaseException | None = None
        unmatched = []
        matched: list[tuple[StoredEntry, Found]] = []
        for stored, found in zip(entries, results):
            if isinstance(found, Exception):
                failed, error = failed + 1, error or found
            elif found:
                matched.append((stored, found))
            else:
                unmatched.append(stored)
        # The batch's pivot translations at once (each one call, shared through the cache),
        # then each entry placed in turn: a later entry may join a story an earlier started.
        signatures = await asyncio.gather(*(self.cluster.signature(stored.entry)
                                            for stored, _ in matched), return_exceptions=True)
        queued = 0
        for (stored, found), signature in zip(matched, signatures):
            if stop is not None and stop.is_set():
                failed += 1  # not placed: still pending for the next start
                continue
            try:
                if isinstance(signature, BaseException):
                    raise signature
                recorded = await self.cluster.place(stored, found,
                                                    time.time() if now is None else now,
                                                    signature)
            except Exception as exc:
                failed, error = failed + 1, error or exc
                continue
            queued += recorded.queued
        try:
            await mark_matched(self.db, [stored.id for stored in unmatched])
        except Exception as exc:
            failed, error = failed + len(unmatched), error or exc
        return queued, failed, error

    def _settle(self, failed: int, error: BaseException | None, retried: bool) -> None:
        """Backoff for entries left pending by failures; said once per streak of failures."""
        if failed and error is not None:
            if self._retry_at is None:
                log.error("matching %d entries failed (%r); they stay pending and are taken "
                          "again while running", failed, error, exc_info=error)
            if retried or self._retry_at is None:
                delay = backoff_delay(self._failing, self.retry_base, self.retry_max)
                self._failing += 1
                self._retry_at = time.monotonic() + delay
        elif retried:
            log.info("entries whose matching failed are matched and recorded after all")
            self._failing, self._retry_at = 0, None

    async def run(self, stop: asyncio.Event) -> None:
        """Match what waits in the store whenever woken (and at start: entries a crash
        left pending), until `stop` is set."""
        while not stop.is_set():
            self.pending.clear()
            try:
                await self.match_pending(stop=stop)
            except Exception as exc:  # the store unreadable for now: try again later
                log.error("taking pending entries failed (%r); retrying", exc)
                self._retry_at = time.monotonic() + self.retry_base
            timeout = IDLE
            if self._retry_at is not None:
                timeout = min(timeout, max(0.01, self._retry_at - time.monotonic()))
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.pending.wait())]
            try:
                await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
