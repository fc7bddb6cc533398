"""The poll loop: each feed on its own schedule through fetch -> parse -> remember.

One shared httpx client, `polling.concurrency` feeds at once, feedparser off the
event loop in a bounded pool, and a feed that fails (or hangs until its timeout)
never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import random
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from bot.config import HealthConfig, PollingConfig, StorageConfig
from bot.feeds import FeedError
from bot.feeds.address import AddressGuard
from bot.feeds.fetch import FetchError, fetch_feed, make_client
from bot.feeds.parse import parse_entries
from bot.feeds.schedule import next_poll_after_failure, next_poll_after_success
from bot.model import Entry, Feed, StoredEntry
from bot.store import feeds as feed_store
from bot.store.db import Database
from bot.store.entries import prune_entries, remember_entries
from bot.store.feeds import DueFeed, HealthReport

log = logging.getLogger(__name__)

OnNewEntries = Callable[[Feed, list[StoredEntry]], Awaitable[None]]
OnFeedHealth = Callable[[Feed, HealthReport], Awaitable[None]]

PRUNE_EVERY = 3600.0
PARSES_PER_WORKER = 100
MAX_IDLE = 5.0  # how long the loop sleeps at most, so feeds added in chat start soon
STOP_GRACE = 2.0  # seconds polls in flight may take to finish once the service stops


@dataclass(frozen=True)
class FeedOutcome:
    """What one poll of one feed did."""

    feed: Feed
    status: str  # "fetched" (200, parsed) | "not_modified" (304) | "failed"
    parsed: int = 0  # entries in the document
    new: int = 0  # entries handed to on_new_entries
    error: str | None = None


@dataclass(frozen=True)
class PollReport:
    outcomes: tuple[FeedOutcome, ...]

    def _count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def polled(self) -> int:
        return len(self.outcomes)

    @property
    def parsed_feeds(self) -> int:
        return self._count("fetched")

    @property
    def not_modified(self) -> int:
        return self._count("not_modified")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def new_entries(self) -> int:
        return sum(o.new for o in self.outcomes)

    def outcome(self, url: str) -> FeedOutcome:
        return next(o for o in self.outcomes if o.feed.url == url)


def make_parse_pool(workers: int = 2) -> Executor:
    """Where feedparser runs: a process, since parsing is CPU-bound and would hold the GIL.

    Spawned, not forked: the service has threads (SQLite, httpx) a fork would copy mid-use.
    Two workers meet the poll-cycle targets on 2 cores (docs/BENCHMARKS.md);
    one uses ~75 MB less memory but parses ~1.4x slower than feedparser alone.
    A worker is replaced after PARSES_PER_WORKER feeds: parsing leaves memory behind
    (a worker that parsed the whole corpus holds ~87 MB, against 57 MB for the
    largest feed alone), and a fresh process costs a fraction of a second.
    """
    return _ParsePool(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                      initializer=_init_worker, initargs=(os.getpid(),),
                      max_tasks_per_child=PARSES_PER_WORKER)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class _ParsePool(ProcessPoolExecutor):
    """Workers are born with SIGINT and SIGTERM blocked, until `_init_worker` ignores them.

    A worker takes a moment to start (seconds on a busy machine); a Ctrl-C in that
    moment would otherwise interrupt its imports with a traceback and break the
    pool. A new process inherits the signal mask of the thread that starts it:
    workers start in `submit`, or in the pool's manager thread, which `submit`
    starts and which keeps the mask it was started with.
    """

    def submit(self, fn, /, *args, **kwargs):
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _init_worker(parent_pid: int) -> None:
    """In a parse worker: signals are the service's to handle, and leave when it dies.

    Ctrl-C reaches the terminal's whole process group: a worker that took SIGINT
    (or a SIGTERM sent to the group) would print a traceback and break the pool
    under the service's graceful stop, which ends the workers itself.
    A worker blocks reading its task queue, whose write end it holds itself, so
    it never sees end-of-file: without the watch, a killed service leaves it behind.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # any pending one is dropped

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def stop_parse_pool(executor: Executor) -> None:
    """Shut the pool without waiting: queued parses are dropped and a worker still
    parsing is killed (it only computes), so a stop never waits on a large feed."""
    # ProcessPoolExecutor offers no way to end a busy worker before Python 3.14's
    # terminate_workers(); its process table (emptied by shutdown) is the only handle.
    workers = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        with contextlib.suppress(Exception):
            process.kill()


class FeedPoller:
    """Polls the database's feeds; call `run(stop)` for the service, `poll_once()` for a cycle."""

    def __init__(self, db: Database, polling: PollingConfig,
                 storage: StorageConfig | None = None, *,
                 on_new_entries: OnNewEntries | None = None,
                 on_feed_health: OnFeedHealth | None = None,
                 health: HealthConfig | None = None,
                 client: httpx.AsyncClient | None = None,
                 executor: Executor | None = None,
                 rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time,
                 guard: AddressGuard | None = None,
                 admins: Sequence[int] = ()) -> None:
        """`guard` decides which addresses the poller's own client may reach (a given
        `client` carries its own); `admins` are told when a feed brings more new
        entries than `polling.max_new_entries`."""
        self.db = db
        self.polling = polling
        self.storage = storage or StorageConfig()
        self.on_new_entries = on_new_entries
        self.on_feed_health = on_feed_health
        self.admins = tuple(admins)
        self.health = health or HealthConfig()
        self.rng = rng or random.Random()
        self.clock = clock
        self._own_client = client is None
        self.client = client or make_client(polling, guard)
        self._own_executor = executor is None
        self.executor = executor or make_parse_pool()
        self._slots = asyncio.Semaphore(polling.concurrency)

    async def __aenter__(self) -> FeedPoller:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
        if self._own_executor:
            stop_parse_pool(self.executor)

    async def poll_once(self, now: float | None = None) -> PollReport:
        """Poll every feed due at `now` once, concurrently; then tell health changes."""
        now = self.clock() if now is None else now
        due = await feed_store.due_feeds(self.db, now)
        outcomes = await asyncio.gather(*(self.poll_feed(d, now) for d in due))
        await self.report_health(now)
        return PollReport(tuple(outcomes))

    async def poll_feed(self, due: DueFeed, now: float) -> FeedOutcome:
        """One feed through fetch -> parse -> remember; every failure ends as its health."""
        feed = due.feed
        interval = feed.interval or self.polling.interval
        new: list[StoredEntry] = []
        try:
            async with self._slots:
                result = await fetch_feed(self.client, feed.url, self.polling, etag=due.etag,
                                          last_modified=due.last_modified)
                if result.not_modified:
                    outcome = FeedOutcome(feed, "not_modified")
                    etag, last_modified = due.etag, due.last_modified
                else:
                    entries = await asyncio.get_running_loop().run_in_executor(
                        self.executor, parse_entries, result.body, result.content_type,
                        feed.language, datetime.fromtimestamp(now, UTC), result.url)
                    new = await remember_entries(self.db, feed, entries, now,
                                                 baseline=not due.baseline_done,
                                                 retention=self.storage.retention,
                                                 max_new=self.polling.max_new_entries,
                                                 admins=self.admins)
                    outcome = FeedOutcome(feed, "fetched", parsed=len(entries), new=len(new))
                    etag, last_modified = result.etag, result.last_modified
                await feed_store.record_success(
                    self.db, feed.id, now, next_poll_after_success(now, interval, self.rng),
                    etag=etag, last_modified=last_modified,
                    baseline_done=due.baseline_done or outcome.status == "fetched")
        except FeedError as exc:
            return await self._failed(due, now, interval, str(exc),
                                      getattr(exc, "retry_after", None))
        except Exception as exc:  # a bug or a surprise in one feed must not stop the loop
            log.exception("polling %s failed unexpectedly", feed.url)
            return await self._failed(due, now, interval,
                                      f"unexpected error: {type(exc).__name__}: {exc}"[:300])
        if new and self.on_new_entries is not None:
            try:
                await self.on_new_entries(feed, new)
            except Exception:
                log.exception("handling %d new entries of %s failed", len(new), feed.url)
        return outcome

    async def _failed(self, due: DueFeed, now: float, interval: float,
                      error: str, retry_after: float | None = None) -> FeedOutcome:
        failures = due.consecutive_failures + 1
        log.info("feed %s: %s (failure %d)", due.feed.url, error, failures)
        next_at = next_poll_after_failure(now, interval, failures, self.rng)
        if retry_after is not None:  # the server said when; within reason, we listen
            next_at = max(next_at, now + min(retry_after, self.polling.max_retry_after))
        await feed_store.record_failure(self.db, due.feed.id, now, error, next_at)
        return FeedOutcome(due.feed, "failed", error=error)

    async def report_health(self, now: float) -> list[HealthReport]:
        """Tell `on_feed_health` about feeds failing for `health.report_after`, their
        recovery, and feeds stale for `health.stale_after`."""
        if self.on_feed_health is None:
            return []
        reports = await feed_store.take_health_reports(self.db, now, self.health)
        for report in reports:
            try:
                await self.on_feed_health(report.feed, report)
            except Exception:
                log.exception("reporting health of %s failed", report.feed.url)
        return reports

    async def prune(self, now: float) -> int:
        return await prune_entries(self.db, now, self.storage.retention)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll each feed whenever it is due until `stop` is set; in-flight polls finish."""
        in_flight: dict[int, asyncio.Task] = {}
        wake = asyncio.Event()
        last_prune = float("-inf")

        def finished(feed_id: int) -> Callable[[asyncio.Task], None]:
            def done(_task: asyncio.Task) -> None:
                in_flight.pop(feed_id, None)
                wake.set()
            return done

        async def one(due: DueFeed) -> None:
            await self.poll_feed(due, self.clock())
            await self.report_health(self.clock())

        while not stop.is_set():
            now = self.clock()
            try:
                if now - last_prune >= PRUNE_EVERY:
                    last_prune = now
                    pruned = await self.prune(now)
                    if pruned:
                        log.info("pruned %d entries older than the retention", pruned)
                for due in await feed_store.due_feeds(self.db, now, exclude=in_flight):
                    task = asyncio.create_task(one(due), name=f"poll {due.feed.url}")
                    in_flight[due.feed.id] = task
                    task.add_done_callback(finished(due.feed.id))
                next_at = await feed_store.next_due_at(self.db, exclude=in_flight)
            except Exception:
                log.exception("the poll loop could not read the feeds; retrying")
                next_at = None
            delay = MAX_IDLE if next_at is None else min(max(next_at - self.clock(), 0.01),
                                                         MAX_IDLE)
            wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

        if in_flight:
            tasks = list(in_flight.values())
            # A feed that hangs would hold the stop for its whole timeout: in-flight polls
            # get a short grace, then are cancelled (their feeds are simply polled again).
            _, pending = await asyncio.wait(tasks, timeout=min(STOP_GRACE, self.polling.timeout))
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def fetch_and_parse(client: httpx.AsyncClient, url: str, language: str,
                          config: PollingConfig, *,
                          now: datetime | None = None) -> list[Entry]:
    """Fetch one feed and parse it, storing nothing (for `preview`); FetchError if unusable."""
    result = await fetch_feed(client, url, config)
    now = now or datetime.now(UTC)
    try:
        return await asyncio.get_running_loop().run_in_executor(
            None, parse_entries, result.body, result.content_type, language, now, result.url)
    except FeedError as exc:
        # To a caller that only reads feeds, a body that is not a feed is a failed fetch.
        raise FetchError(str(exc)) from None
