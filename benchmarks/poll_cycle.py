"""Poll-cycle benchmark: 1,000 local feeds, cold (fetch+parse+dedupe+store) and warm (304).

Prints two parse floors: feedparser over the same bodies in one process (a1) and
in as many processes as the cycle's parse pool (a2, measured before and after the
cycles, averaged), and our own parse_entries in the same processes. Then the cold
cycle (b), the warm cycle (c), (b)/(a2) and (c)/(b) against their targets, peak
RSS, and where the cold cycle's CPU went (the gap to the floor). The feeds are the
corpus's real files (../shared/corpus/feeds), cycled to 1,000 distinct URLs and
served from 127.0.0.1 by a separate process so serving does not share our loop.

    .venv/bin/python benchmarks/poll_cycle.py [--feeds 1000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the feed server lives with the test fakes

from fakes.feeds import CORPUS, serve_files_in_process

from bot.config import FeedConfig, PollingConfig, StorageConfig
from bot.feeds.parse import ParseError, parse_entries
from bot.feeds.parse_pool import ParsePool
from bot.feeds.poll import FeedPoller, make_parse_pool
from bot.store import feeds as feed_store
from bot.store.db import Database

TARGET_COLD = 1.3
TARGET_WARM = 0.10
TARGET_RSS_MB = 250
# A worker's VmHWM outlives its peak, so a worker only has to be caught once alive;
# sampling more often costs the cycle CPU (psutil walks /proc each time).
SAMPLE_EVERY_S = 0.02  # short peaks of a worker parsing a large feed last ~100 ms and more
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


def balanced_shares(feeds: list[tuple[str, str]], workers: int) -> list[list[tuple[str, str]]]:
    """`feeds` split into `workers` lists of about equal bytes (largest first, to the lightest)."""
    sizes = {path: os.path.getsize(path) for path, _ in feeds}
    shares: list[list[tuple[str, str]]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for feed in sorted(feeds, key=lambda feed: -sizes[feed[0]]):
        lightest = loads.index(min(loads))
        shares[lightest].append(feed)
        loads[lightest] += sizes[feed[0]]
    return shares


def parse_with(parser: str, body: bytes, language: str, now: datetime) -> None:
    if parser == "feedparser":  # the options our parser passes it
        feedparser.parse(body, response_headers={"content-type": "application/xml"},
                         sanitize_html=False, resolve_relative_uris=False)
    else:
        parse_entries(body, "application/xml", language, now)


def _floor_worker(feeds: list[tuple[str, str]], parser: str, ready, results) -> None:
    """In a floor process: load the bodies, warm up, wait for the start, parse them all."""
    startup = time.process_time()  # spawning: the interpreter and this script's imports
    unique = {path: Path(path).read_bytes() for path, _ in feeds}
    bodies = [(unique[path], language) for path, language in feeds]
    now = datetime.now(UTC)
    parse_with(parser, *bodies[0], now)  # imports and first-call costs are not the floor's
    ready.wait()
    cpu = time.process_time()
    for body, language in bodies:
        parse_with(parser, body, language, now)
    results.put((time.process_time() - cpu, startup))


def parse_floor(feeds: list[tuple[str, str]], parser: str,
                workers: int) -> tuple[float, float, float]:
    """Wall seconds and CPU seconds to parse the bodies of `feeds` (path, language) with
    `parser` in `workers` spawned processes, each holding an equal share of the bytes;
    and the CPU seconds a spawned process took to start."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [context.Process(target=_floor_worker, args=(share, parser, ready, results))
                 for share in balanced_shares(feeds, workers)]
    for process in processes:
        process.start()
    ready.wait()
    start = time.perf_counter()
    answers = [results.get() for _ in processes]
    wall = time.perf_counter() - start
    for process in processes:
        process.join()
    return wall, sum(cpu for cpu, _ in answers), max(startup for _, startup in answers)


def warm_pool(pool: ParsePool, body: bytes) -> None:
    """Every worker started and past its first parse, as in a service that has been running."""
    now = datetime.now(UTC)

    async def warm() -> None:
        await asyncio.gather(*(pool.run(parse_entries, body, None, "en", now) for _ in range(4)))

    asyncio.run(warm())


def child_pids() -> set[int]:
    """This process's children, read from /proc/self/task/*/children: psutil's way
    scans every process of the machine, which costs the cycle CPU at each sample."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update(int(pid) for pid in (task / "children").read_text().split())
        except OSError:
            return {child.pid for child in psutil.Process().children()}
    return pids


def workers_mb(server_pid: int, seen: set[int], field: str = "VmHWM:") -> float:
    """The sum of the live parse workers' peaks (VmHWM) or current sizes (VmRSS) in MB;
    adds their pids to `seen`."""
    total = 0.0
    for pid in child_pids():
        if pid == server_pid:
            continue  # the feed server holds every body in memory; it is not the bot
        seen.add(pid)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith(field):
                total += int(line.split()[1]) / 1024
    return total


def own_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRSS:
    """Samples, every SAMPLE_EVERY_S, this process's peak plus the live workers' peaks.

    A worker past its memory bound is replaced, so the peaks must be read while
    the workers live; adding each one's high-water mark to ours at every sample
    can only overstate the simultaneous peak, never understate it.
    """

    class Sampler(threading.Thread):
        pass

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.own = 0.0
        self.workers = 0.0
        self.together = 0.0  # the largest sum of sizes at one instant (sampled)
        self.worker_pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = self.Sampler(target=self._run, daemon=True)

    def _sample(self) -> None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers = workers_mb(self.server_pid, self.worker_pids)
        if own + workers > self.own + self.workers:
            self.own, self.workers = own, workers
        now = own_rss_mb() + workers_mb(self.server_pid, self.worker_pids, "VmRSS:")
        self.together = max(self.together, now)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self._sample()

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def parse_through_pool(feeds: list[tuple[str, str]], workers: int,
                       concurrency: int) -> tuple[float, float]:
    """Wall and CPU seconds (this process and the workers) for our parse_entries of the
    bodies of `feeds` through the cycle's parse pool, handed over from the event loop
    at most `concurrency` at a time as the cycle does: the cycle with no fetch or store."""
    unique = {path: Path(path).read_bytes() for path, _ in feeds}
    bodies = [(unique[path], language) for path, language in feeds]
    now = datetime.now(UTC)

    async def parse_all(pool: ParsePool) -> None:
        slots = asyncio.Semaphore(concurrency)

        async def one(body: bytes, language: str) -> None:
            async with slots:
                await pool.run(parse_entries, body, "application/xml", language, now)

        await asyncio.gather(*(one(body, language) for body, language in bodies))

    pool = make_parse_pool(workers)
    try:
        warm_pool(pool, bodies[0][0])
        cpu = CpuUse()
        cpu.start()
        start = time.perf_counter()
        asyncio.run(parse_all(pool))
        wall = time.perf_counter() - start
        used = sum(cpu.stop().values())
    finally:
        pool.close()
    return wall, used


def _cpu(times) -> float:
    return times.user + times.system


def _children_cpu() -> float:
    """CPU seconds of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _thread_kind(thread: threading.Thread | None) -> str:
    if thread is threading.main_thread():
        return "event loop: fetch, dedupe, parse results in"
    target = getattr(thread, "_target", None)
    if getattr(target, "__name__", "") == "_connection_worker_thread":
        return "SQLite (aiosqlite's thread)"
    if thread is not None and thread.name.startswith("parse-driver"):
        return "parse pool's IPC threads (bodies out, entries in)"
    if isinstance(thread, PeakRSS.Sampler):
        return "this benchmark's RSS sampler"
    return "other threads of this process"


class CpuUse:
    """CPU seconds spent between start() and stop(), by whom: this process's threads,
    the parse workers (live and replaced) and the feed server."""

    def __init__(self, server_pid: int | None = None) -> None:
        self.server = psutil.Process(server_pid) if server_pid else None
        self.me = psutil.Process()

    def _workers(self) -> dict[int, float]:
        found = {}
        for pid in child_pids():
            if self.server is None or pid != self.server.pid:
                try:
                    found[pid] = _cpu(psutil.Process(pid).cpu_times())
                except psutil.NoSuchProcess:
                    pass
        return found

    def _server(self) -> float:
        return _cpu(self.server.cpu_times()) if self.server else 0.0

    def _threads(self) -> dict[int, float]:
        return {t.id: t.user_time + t.system_time for t in self.me.threads()}

    def start(self) -> None:
        self._t0 = (_cpu(self.me.cpu_times()), self._threads(), self._workers(),
                    _children_cpu(), self._server())

    def stop(self) -> dict[str, float]:
        own0, threads0, workers0, reaped0, server0 = self._t0
        threads, workers = self._threads(), self._workers()
        kinds = {t.native_id: _thread_kind(t) for t in threading.enumerate()}
        used: dict[str, float] = {}
        for tid, cpu in threads.items():
            kind = kinds.get(tid, "other threads of this process")
            used[kind] = used.get(kind, 0.0) + cpu - threads0.get(tid, 0.0)
        # Threads that ended meanwhile are in the process's total only.
        used["other threads of this process"] = used.get("other threads of this process", 0.0) + (
            _cpu(self.me.cpu_times()) - own0 - sum(used.values()))
        reaped = _children_cpu() - reaped0 - sum(
            cpu for pid, cpu in workers0.items() if pid not in workers)
        used["parse workers (feedparser + our parse + their IPC)"] = reaped + sum(
            cpu - workers0.get(pid, 0.0) for pid, cpu in workers.items())
        if self.server:
            used["feed server process (serving the bodies)"] = self._server() - server0
        return used


async def cycles(base_url: str, feeds: list[tuple[str, str]], pool: ParsePool,
                 concurrency: int, cpu: CpuUse) -> tuple[float, float, object, object, dict]:
    polling = PollingConfig(interval=300.0, timeout=30.0, max_bytes=10_000_000,
                            concurrency=concurrency, allow_private_addresses=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.sqlite3")
        now = time.time()
        await feed_store.sync_config_feeds(
            db, [FeedConfig(url=base_url + path, language=lang) for path, lang in feeds], now)
        async with FeedPoller(db, polling, StorageConfig(), pool=pool) as poller:
            cpu.start()
            start = time.perf_counter()
            cold = await poller.poll_once(now)
            cold_s = time.perf_counter() - start
            cold_cpu = cpu.stop()
            start = time.perf_counter()
            warm = await poller.poll_once(now + 3600)
            warm_s = time.perf_counter() - start
        rows = (await db.fetchone("SELECT COUNT(*) FROM entries"))[0]
        await db.close()
    print(f"    stored entries: {rows}")
    return cold_s, warm_s, cold, warm, cold_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="parse pool size")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"poll_cycle: the feed corpus is not at {CORPUS}", file=sys.stderr)
        return 2

    sources = corpus_feeds()
    paths = {f"/feed/{i}.xml": str(sources[i % len(sources)][0]) for i in range(args.feeds)}
    feeds = [(f"/feed/{i}.xml", sources[i % len(sources)][1]) for i in range(args.feeds)]
    served = [(paths[path], language) for path, language in feeds]
    size_mb = sum(os.path.getsize(path) for path, _ in served) / 1e6
    print(f"poll cycle: {args.feeds} feeds cycling {len(sources)} corpus files "
          f"({size_mb:.1f} MB in all), parse pool: {args.workers} processes")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, feedparser {feedparser.__version__}")

    one, one_cpu, _ = parse_floor(served, "feedparser", 1)
    before, before_cpu, _ = parse_floor(served, "feedparser", args.workers)
    ours, ours_cpu, startup_cpu = parse_floor(served, "ours", args.workers)
    pooled, pooled_cpu = parse_through_pool(served, args.workers, args.concurrency)
    base_url, server = serve_files_in_process(paths)
    pool = make_parse_pool(args.workers)
    try:
        warm_pool(pool, Path(served[0][0]).read_bytes())
        with PeakRSS(server.pid) as peak:
            cold_s, warm_s, cold, warm, cold_cpu = asyncio.run(
                cycles(base_url, feeds, pool, args.concurrency, CpuUse(server.pid)))
        own, workers, started = peak.own, peak.workers, pool.processes_started
        together = peak.together
    finally:
        pool.close()
        server.terminate()
    after, after_cpu, _ = parse_floor(served, "feedparser", args.workers)
    floor, floor_cpu = (before + after) / 2, (before_cpu + after_cpu) / 2
    print(f"(a1) parse floor: feedparser, 1 process    {one:7.2f} s   (CPU {one_cpu:.2f} s)")
    print(f"(a2) parse floor: feedparser, {args.workers} processes  {floor:7.2f} s   "
          f"(before the cycles {before:.2f} s, after {after:.2f} s; "
          f"CPU {floor_cpu:.2f} s)")
    print(f"     our parse_entries, {args.workers} processes     {ours:7.2f} s   "
          f"(CPU {ours_cpu:.2f} s)")
    print(f"     the same through the cycle's pool     {pooled:7.2f} s   "
          f"(CPU {pooled_cpu:.2f} s: bodies and entries pickled)")
    print(f"(b)  cold cycle fetch+parse+store        {cold_s:7.2f} s   "
          f"({cold.parsed_feeds} parsed, {cold.failed} failed, "
          f"{sum(o.parsed for o in cold.outcomes)} entries)")
    print(f"(c)  warm cycle, all 304                 {warm_s:7.2f} s   "
          f"({warm.not_modified} not modified, {warm.parsed_feeds} parsed)")
    cold_ratio, warm_ratio = cold_s / floor, warm_s / cold_s
    rss = own + workers
    verdict = {True: "ok", False: "MISSED"}
    print(f"(b)/(a2) = {cold_ratio:.2f}   target <= {TARGET_COLD}   "
          f"{verdict[cold_ratio <= TARGET_COLD]}   (against the one-process floor (a1): "
          f"{cold_s / one:.2f})")
    print(f"(c)/(b)  = {warm_ratio:.3f}  target <= {TARGET_WARM}   "
          f"{verdict[warm_ratio <= TARGET_WARM]}")
    print(f"peak RSS = {together:.0f} MB (the largest sum of the bot's processes' sizes at one "
          f"sample, every {SAMPLE_EVERY_S * 1000:.0f} ms)   target <= {TARGET_RSS_MB} MB   "
          f"{verdict[together <= TARGET_RSS_MB]}")
    print(f"           bound: {rss:.0f} MB (this process's peak {own:.0f} MB + each parse "
          f"worker's own peak {workers:.0f} MB, peaks that need not coincide)")
    total = sum(cold_cpu.values())
    print(f"\nCPU seconds spent during the cold cycle ({cold_s:.2f} s wall, "
          f"{os.cpu_count()} cores):")
    for kind, seconds in sorted(cold_cpu.items(), key=lambda item: -item[1]):
        print(f"  {seconds:7.2f} s  {kind}")
    print(f"  {total:7.2f} s  in all, {total / cold_s:.2f} cores busy on average "
          f"(the floor (a2): {floor_cpu:.2f} s, {floor_cpu / floor:.2f} cores busy)")
    sampler = cold_cpu.get("this benchmark's RSS sampler", 0.0)
    print(f"cycle CPU without the sampler / floor (a2) CPU = "
          f"{(total - sampler) / floor_cpu:.2f} (on otherwise idle cores the cycle can take no "
          f"less than its CPU / {os.cpu_count()}); {started} parse worker processes were started, a "
          f"fresh one costing {startup_cpu:.2f} s CPU to start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
