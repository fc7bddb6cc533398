"""What refusing a damaged database costs at start: `Database.open` with its
`PRAGMA quick_check`, beside the same open with the check left out, on one file.

Run: .venv/bin/python benchmarks/startup_check.py [--entries N]
The file holds N entries (default 66,000, the backlog of a restart after a long
stop) with titles and summaries the size of the corpus's, two indexes on them,
as the service writes them. Opens with and without the check alternate, each a
fresh connection (SQLite's cache empty, the OS page cache warm, as at a restart).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.store.db import Database

RUNS = 5


async def build(path: Path, entries: int) -> None:
    await (await Database.open(path)).close()
    conn = sqlite3.connect(path)
    now = time.time()
    conn.execute("INSERT INTO feeds (url, language, name, origin, created_at) "
                 "VALUES ('http://feed.example/rss', 'en', 'Feed', 'config', ?)", (now,))
    conn.executemany(
        "INSERT INTO entries (feed_id, key, alert_key, link, title, summary, language, "
        "published_at, first_seen_at, last_seen_at, pending_match) "
        "VALUES (1, ?, ?, ?, ?, ?, 'en', ?, ?, ?, 1)",
        [(f"k{n}", f"https://news.example/{n}", f"https://news.example/{n}",
          f"Headline number {n} about troops and Ukraine " * 2,
          f"A summary of entry {n}, a few sentences long. " * 8, now, now, now)
         for n in range(entries)])
    conn.commit()
    conn.close()


async def open_seconds(path: Path, check: bool) -> float:
    original = Database._check_intact
    if not check:
        async def skipped(self) -> None:
            return None
        Database._check_intact = skipped
    try:
        start = time.perf_counter()
        db = await Database.open(path)
        seconds = time.perf_counter() - start
        await db.close()
    finally:
        Database._check_intact = original
    return seconds


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=66_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        await build(path, args.entries)
        size = os.path.getsize(path) / 1e6
        without, with_check = [], []
        for _ in range(RUNS):  # alternated, so both see the same machine
            without.append(await open_seconds(path, check=False))
            with_check.append(await open_seconds(path, check=True))
    print(f"{args.entries:,} entries, {size:.1f} MB file, {RUNS} opens each, median (max)")
    print(f"  open without the check (baseline): {statistics.median(without) * 1000:7.1f} ms"
          f" ({max(without) * 1000:.1f})")
    print(f"  open with PRAGMA quick_check:      {statistics.median(with_check) * 1000:7.1f} ms"
          f" ({max(with_check) * 1000:.1f})")
    cost = statistics.median(with_check) - statistics.median(without)
    print(f"  the check's cost: {cost * 1000:.1f} ms, about {size / max(cost, 1e-9):.0f} MB/s")


if __name__ == "__main__":
    asyncio.run(main())
