"""Poll-cycle benchmark: 1,000 local feeds, cold (fetch+parse+dedupe+store) and warm (304).

Prints the parse floor (a), the cold cycle (b), the warm cycle (c), the ratios
(b)/(a) and (c)/(b) against their targets, and peak RSS. The feeds are the
corpus's real files (../shared/corpus/feeds), cycled to 1,000 distinct URLs and
served from 127.0.0.1 by a separate process so serving does not share our loop.

    .venv/bin/python benchmarks/poll_cycle.py [--feeds 1000] [--pool process|thread] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the feed server lives with the test fakes

from fakes.feeds import CORPUS, serve_files_in_process

from bot.config import FeedConfig, PollingConfig, StorageConfig
from bot.feeds.parse import ParseError, parse_entries
from bot.feeds.poll import FeedPoller, make_parse_pool
from bot.store import feeds as feed_store
from bot.store.db import Database

TARGET_COLD = 1.3
TARGET_WARM = 0.10
TARGET_RSS_MB = 250
LANGUAGE = {"fr": "fr", "en": "en", "ru": "ru", "other": "en"}


def corpus_feeds() -> list[tuple[Path, str]]:
    """Every curated corpus feed our parser accepts, with a language to poll it as."""
    now = datetime.now(UTC)
    found = []
    for folder in ("fr", "en", "ru", "other"):
        for path in sorted((CORPUS / "feeds" / folder).glob("*.xml")):
            try:
                parse_entries(path.read_bytes(), "application/xml", "en", now)
            except ParseError:
                continue  # the truncated sample: a failure, not a feed to time
            found.append((path, LANGUAGE[folder]))
    return found


def parse_floor(bodies: list[bytes]) -> float:
    """(a): feedparser alone, one thread, the options our parser uses."""
    start = time.perf_counter()
    for body in bodies:
        feedparser.parse(body, response_headers={"content-type": "application/xml"},
                         sanitize_html=False, resolve_relative_uris=False)
    return time.perf_counter() - start


def feedparser_defaults(bodies: list[bytes]) -> float:
    start = time.perf_counter()
    for body in bodies:
        feedparser.parse(body)
    return time.perf_counter() - start


def make_pool(kind: str, workers: int) -> Executor:
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="feed-parse")
    return make_parse_pool(workers)


def warm_pool(pool: Executor, body: bytes) -> None:
    now = datetime.now(UTC)
    list(pool.map(parse_entries, [body] * 4, [None] * 4, ["en"] * 4, [now] * 4))


def workers_hwm_mb(server_pid: int) -> float:
    """The sum of the live parse workers' peaks (VmHWM) in MB."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        if child.pid == server_pid:
            continue  # the feed server holds every body in memory; it is not the bot
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total


class PeakRSS:
    """Samples, every 20 ms, this process's peak plus the live workers' peaks.

    Workers are replaced as they go (max_tasks_per_child), so their peaks must be
    read while they live; adding each one's high-water mark to ours at every sample
    can only overstate the simultaneous peak, never understate it.
    """

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.own = 0.0
        self.workers = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers = workers_hwm_mb(self.server_pid)
        if own + workers > self.own + self.workers:
            self.own, self.workers = own, workers

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self._sample()

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


async def cycles(base_url: str, feeds: list[tuple[str, str]], pool: Executor,
                 concurrency: int) -> tuple[float, float, object, object]:
    polling = PollingConfig(interval=300.0, timeout=30.0, max_bytes=10_000_000,
                            concurrency=concurrency, allow_private_addresses=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.sqlite3")
        now = time.time()
        await feed_store.sync_config_feeds(
            db, [FeedConfig(url=base_url + path, language=lang) for path, lang in feeds], now)
        async with FeedPoller(db, polling, StorageConfig(), executor=pool) as poller:
            start = time.perf_counter()
            cold = await poller.poll_once(now)
            cold_s = time.perf_counter() - start
            start = time.perf_counter()
            warm = await poller.poll_once(now + 3600)
            warm_s = time.perf_counter() - start
        rows = (await db.fetchone("SELECT COUNT(*) FROM entries"))[0]
        await db.close()
    print(f"    stored entries: {rows}")
    return cold_s, warm_s, cold, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--pool", choices=("process", "thread"), default="process")
    parser.add_argument("--workers", type=int, default=2, help="parse pool size")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"poll_cycle: the feed corpus is not at {CORPUS}", file=sys.stderr)
        return 2

    sources = corpus_feeds()
    paths = {f"/feed/{i}.xml": str(sources[i % len(sources)][0]) for i in range(args.feeds)}
    feeds = [(f"/feed/{i}.xml", sources[i % len(sources)][1]) for i in range(args.feeds)]
    unique = {str(p): p.read_bytes() for p, _ in sources}
    bodies = [unique[paths[path]] for path, _ in feeds]  # the same objects, not copies
    size_mb = sum(map(len, bodies)) / 1e6
    print(f"poll cycle: {args.feeds} feeds cycling {len(sources)} corpus files "
          f"({size_mb:.1f} MB in all), parse pool: {args.workers} {args.pool}(es)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, feedparser {feedparser.__version__}")

    base_url, server = serve_files_in_process(paths)
    pool = make_pool(args.pool, args.workers)
    try:
        warm_pool(pool, bodies[0])
        # The cycles run first, so peak RSS is the bot's, not the floor measurement's.
        with PeakRSS(server.pid) as peak:
            cold_s, warm_s, cold, warm = asyncio.run(
                cycles(base_url, feeds, pool, args.concurrency))
        own, workers = peak.own, peak.workers
        floor = parse_floor(bodies)
        print(f"(a) feedparser parse, one thread      {floor:7.2f} s")
        defaults = feedparser_defaults(list(unique.values())) * len(bodies) / len(unique)
        print(f"    (feedparser with default options  ~{defaults:6.2f} s, for reference)")
        print(f"(b) cold cycle fetch+parse+store      {cold_s:7.2f} s   "
              f"({cold.parsed_feeds} parsed, {cold.failed} failed, "
              f"{sum(o.parsed for o in cold.outcomes)} entries)")
        print(f"(c) warm cycle, all 304               {warm_s:7.2f} s   "
              f"({warm.not_modified} not modified, {warm.parsed_feeds} parsed)")
    finally:
        pool.shutdown()
        server.terminate()
    cold_ratio, warm_ratio = cold_s / floor, warm_s / cold_s
    rss = own + workers
    verdict = {True: "ok", False: "MISSED"}
    print(f"(b)/(a) = {cold_ratio:.2f}   target <= {TARGET_COLD}   "
          f"{verdict[cold_ratio <= TARGET_COLD]}")
    print(f"(c)/(b) = {warm_ratio:.3f}  target <= {TARGET_WARM}   "
          f"{verdict[warm_ratio <= TARGET_WARM]}")
    print(f"peak RSS = {rss:.0f} MB (this process {own:.0f} MB + parse workers {workers:.0f} MB)"
          f"   target <= {TARGET_RSS_MB} MB   {verdict[rss <= TARGET_RSS_MB]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
