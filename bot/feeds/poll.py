"""The poll loop: each feed on its own schedule through fetch -> parse -> remember.

One shared httpx client, `polling.concurrency` feeds at once, feedparser in
supervised worker processes (`parse_pool.py`). Each refresh returns a value (a
FeedUpdate, `refresh.py`) that the store applies in one transaction; entries it
flags as pending are matched later by the match stage, which this loop only wakes.
A feed that fails or hangs never holds up the others: every poll has a deadline,
and feeds that are failing (or not yet proven) share fewer slots than the whole,
so healthy feeds always find one free and keep their interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from bot.config import HealthConfig, PollingConfig, StorageConfig
from bot.feeds import FeedError
from bot.feeds.adaptive import PollingPolicy, feed_interval
from bot.feeds.address import AddressGuard
from bot.feeds.fetch import FetchError, fetch_feed, make_client
from bot.feeds.parse import parse_entries
from bot.feeds.parse_pool import PARSE_DEADLINE, ParsePool
from bot.feeds.refresh import Parse, refresh_feed, remember_entries
from bot.feeds.schedule import next_poll_after_failure
from bot.model import Entry, Feed
from bot.store import feeds as feed_store
from bot.store import websub as websub_store
from bot.store.db import Database
from bot.store.entries import apply_feed_update, prune_entries
from bot.store.feeds import DueFeed, HealthReport

log = logging.getLogger(__name__)

OnFeedHealth = Callable[[Feed, HealthReport], Awaitable[None]]

PRUNE_EVERY = 3600.0
MAX_IDLE = 5.0  # how long the loop sleeps at most, so feeds added in chat start soon
STOP_GRACE = 2.0  # seconds polls in flight may take to finish once the service stops
STORE_SLACK = 30.0  # a poll's deadline beyond fetch and parse: reading the stored keys


@dataclass(frozen=True)
class FeedOutcome:
    """What one poll of one feed did."""

    feed: Feed
    status: str  # "fetched" (200, parsed) | "not_modified" (304) | "failed"
    parsed: int = 0  # entries in the document
    new: int = 0  # entries stored to wait for matching
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


def make_parse_pool(workers: int = 2) -> ParsePool:
    """Two workers meet the poll-cycle targets on 2 cores (docs/BENCHMARKS.md)."""
    return ParsePool(workers)


def stop_parse_pool(pool: ParsePool) -> None:
    """Stop the workers at once: a parse in progress is abandoned (it only computes)."""
    pool.close()


class FeedPoller:
    """Polls the database's feeds; call `run(stop)` for the service, `poll_once()` for a cycle."""

    def __init__(self, db: Database, polling: PollingConfig,
                 storage: StorageConfig | None = None, *,
                 pending: asyncio.Event | None = None,
                 on_feed_health: OnFeedHealth | None = None,
                 health: HealthConfig | None = None,
                 client: httpx.AsyncClient | None = None,
                 pool: ParsePool | None = None,
                 parse: Parse = parse_entries,
                 rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time,
                 guard: AddressGuard | None = None,
                 websub: bool = False, admins: tuple[int, ...] = ()) -> None:
        """`pending` is set whenever a poll stored entries that wait for matching (the
        match stage's wake-up; the entries themselves are in the store). `guard`
        decides which addresses the poller's own client may reach (a given `client`
        carries its own). `parse` runs in the pool's workers (module-level function)."""
        self.db = db
        self.polling = polling
        self.websub = websub  # note hubs feeds advertise; pushed feeds are polled as a backstop
        self.admins = tuple(admins)  # told when a poll brings over polling.max_new_entries
        low, high = polling.bounds
        self.policy = PollingPolicy(default=polling.interval, minimum=low, maximum=high,
                                    adaptive=polling.adaptive)
        self.storage = storage or StorageConfig()
        self.pending = pending
        self.on_feed_health = on_feed_health
        self.parse = parse
        self.health = health or HealthConfig()
        self.rng = rng or random.Random()
        self.clock = clock
        self._own_client = client is None
        self.client = client or make_client(polling, guard)
        self._own_pool = pool is None
        self.pool = pool or make_parse_pool()
        concurrency = polling.concurrency
        # Slots only proven feeds may use: failing, hanging or brand-new feeds never
        # hold every slot, so a healthy feed due meanwhile is fetched on time.
        reserved = max(1, concurrency // 4) if concurrency > 1 else 0
        self._slots = asyncio.Semaphore(concurrency)
        self._doubtful_slots = asyncio.Semaphore(concurrency - reserved)

    @property
    def feed_deadline(self) -> float:
        """The longest one poll may take, whatever hangs: the fetch's timeout, waiting
        for a parse worker and the parse's own deadline, and reading the stored keys."""
        return (self.polling.timeout + self.pool.wait_limit + self.pool.deadline
                + STORE_SLACK)

    async def __aenter__(self) -> FeedPoller:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()
        if self._own_pool:
            stop_parse_pool(self.pool)

    async def poll_once(self, now: float | None = None) -> PollReport:
        """Poll every feed due at `now` once, concurrently; then tell health changes."""
        now = self.clock() if now is None else now
        due = await feed_store.due_feeds(self.db, now)
        outcomes = await asyncio.gather(*(self.poll_feed(d, now) for d in due))
        await self.report_health(now)
        return PollReport(tuple(outcomes))

    @contextlib.asynccontextmanager
    async def _slot(self, due: DueFeed) -> AsyncIterator[None]:
        if due.baseline_done and due.consecutive_failures == 0:
            async with self._slots:
                yield
        else:
            async with self._doubtful_slots, self._slots:
                yield

    async def poll_feed(self, due: DueFeed, now: float) -> FeedOutcome:
        """One feed: its refresh (a value) applied in one transaction; every failure ends
        as the feed's health, and entries waiting for matching wake the match stage."""
        feed = due.feed
        interval = await self.interval_of(feed, now)
        try:
            async with self._slot(due):
                async with asyncio.timeout(self.feed_deadline):
                    update, parsed = await refresh_feed(
                        self.db, self.client, self.pool, due, self.polling, now,
                        interval=interval, retention=self.storage.retention, rng=self.rng,
                        parse=self.parse, websub=self.websub, admins=self.admins)
            await apply_feed_update(self.db, update)
        except FeedError as exc:
            return await self._failed(due, now, interval, str(exc),
                                      getattr(exc, "retry_after", None))
        except TimeoutError:
            return await self._failed(due, now, interval,
                                      f"poll took over {self.feed_deadline:g}s")
        except Exception as exc:  # a bug or a surprise in one feed must not stop the loop
            log.exception("polling %s failed unexpectedly", feed.url)
            return await self._failed(due, now, interval,
                                      f"unexpected error: {type(exc).__name__}: {exc}"[:300])
        if update.pending and self.pending is not None:
            self.pending.set()
        if parsed is None:
            return FeedOutcome(feed, "not_modified")
        return FeedOutcome(feed, "fetched", parsed=parsed, new=len(update.pending))

    async def take_pushed(self, feed_id: int, body: bytes, content_type: str | None) -> int:
        """A body the feed's WebSub hub pushed, taken as a poll's body: the same parse
        (in the pool, under its deadline) and the same dedup, the feed's poll state left
        as it is. Before the feed's first poll it is recorded as seen, as that poll would.
        The number of entries now waiting for matching."""
        found = await feed_store.feed_for_push(self.db, feed_id)
        if found is None:
            return 0
        feed, baseline_done = found
        now = self.clock()
        entries = await self.pool.run(self.parse, body, content_type, feed.language,
                                      datetime.fromtimestamp(now, UTC), feed.url)
        pending = await remember_entries(self.db, feed, entries, now,
                                         baseline=not baseline_done,
                                         retention=self.storage.retention)
        if pending and self.pending is not None:
            self.pending.set()
        return len(pending)

    async def interval_of(self, feed: Feed, now: float) -> float:
        """Seconds until the feed's next poll: its own configured interval; for a feed
        whose hub pushes, the backstop (polling.max_interval); else how often it
        publishes (adaptive), from its last entries."""
        if feed.interval:
            return feed.interval
        if self.websub and await websub_store.is_pushed(self.db, feed.id):
            return self.policy.maximum
        if not self.polling.adaptive:
            return self.polling.interval
        times = await feed_store.recent_publication_times(self.db, feed.id)
        return feed_interval(self.policy, None, times, now)

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
        # One document, one thread: preview is a command, not the service's pool.
        return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(
            None, parse_entries, result.body, result.content_type, language, now, result.url),
            PARSE_DEADLINE)
    except FeedError as exc:
        # To a caller that only reads feeds, a body that is not a feed is a failed fetch.
        raise FetchError(str(exc)) from None
    except TimeoutError:
        raise FetchError(f"parse took over {PARSE_DEADLINE:g}s") from None
