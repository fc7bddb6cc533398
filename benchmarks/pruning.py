"""Pruning beside a large outbox: how late the event loop and the shared connection run.

A database of 100,000 entries, each matched once, clustered, and sent to 4 chats
(400,000 outbox rows) plus digest items for a tenth of them. Old entries are pruned
while two tickers run on the same event loop:

- loop lag: a task asking to wake every 10 ms; how late it wakes;
- connection wait: a task reading one row through the service's Database every
  20 ms, as the sender and the matcher do; how long that read takes.

Baseline, same run, same data: the former pruning (one DELETE of every old entry in
one transaction) on a copy without the indexes of migration 014. Then the current
pruning (batches of `PRUNE_BATCH`) on the same 400 entries, and on 25,000.

    .venv/bin/python benchmarks/pruning.py
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.store import entries
from bot.store.db import Database

NOW = 1_750_000_000.0
DAY = 86400.0
RETENTION = 30 * DAY
CHATS_PER_MATCH = 4
FEEDS = 50
# Indexes added by migration 014: dropped on the baseline's copy.
NEW_INDEXES = ("outbox_match", "digest_items_match", "digest_items_notice", "notices_chat",
               "outbox_message", "story_messages_message", "outbox_story",
               "entries_feed_seen", "translation_cache_created")


def build(path: Path, total: int, first_old: int, more_old: int) -> None:
    """`total` entries; the first `first_old` last seen 40 days ago, the next `more_old`
    35 days ago, the rest today."""
    async def create() -> None:
        db = await Database.open(path)
        await db.close()

    asyncio.run(create())
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO feeds (id, url, language, created_at, last_success_at) VALUES (?, ?, 'fr', ?, ?)",
        [(f, f"https://f{f}.example/rss", NOW - 60 * DAY, NOW) for f in range(1, FEEDS + 1)])
    conn.executemany("INSERT INTO topics (id, name, title, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?)", [(t, f"t{t}", f"T{t}", NOW, NOW) for t in (1, 2)])
    chats = 2000
    conn.executemany("INSERT INTO chats (id, type, language, created_at) VALUES (?, 'private', 'en', ?)",
                     [(c, NOW) for c in range(1, chats + 1)])

    def seen(n: int) -> float:
        if n <= first_old:
            return NOW - 40 * DAY
        if n <= first_old + more_old:
            return NOW - 35 * DAY
        return NOW

    conn.executemany(
        "INSERT INTO entries (id, feed_id, key, alert_key, link, title, summary, language, "
        "published_at, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, '', 'fr', ?, ?, ?)",
        [(n, 1 + n % FEEDS, f"k{n}", f"https://e.example/{n}", f"https://e.example/{n}",
          f"Titre {n}", seen(n) - DAY, seen(n) - DAY, seen(n)) for n in range(1, total + 1)])
    conn.executemany("INSERT INTO matches (id, entry_id, topic_id, terms, matched_at) "
                     "VALUES (?, ?, ?, '[]', ?)",
                     [(n, n, 1 + n % 2, seen(n)) for n in range(1, total + 1)])
    conn.executemany("INSERT INTO stories (id, started_at, last_joined_at) VALUES (?, ?, ?)",
                     [(n, seen(n), seen(n)) for n in range(1, total + 1)])
    conn.executemany("INSERT INTO story_entries (entry_id, story_id, joined_at, signature) "
                     "VALUES (?, ?, ?, '{}')", [(n, n, seen(n)) for n in range(1, total + 1)])
    conn.executemany(
        "INSERT INTO outbox (match_id, alert_key, topic_id, chat_id, state, created_at, sent_at, "
        "message_id, kind, story_id, entry_id) VALUES (?, ?, ?, ?, 'sent', ?, ?, ?, 'send', ?, ?)",
        [(n, f"https://e.example/{n}", 1 + n % 2, 1 + (n * CHATS_PER_MATCH + k) % chats,
          seen(n), seen(n), n * CHATS_PER_MATCH + k, n, n)
         for n in range(1, total + 1) for k in range(CHATS_PER_MATCH)])
    conn.executemany("INSERT INTO digest_items (chat_id, match_id, created_at) VALUES (?, ?, ?)",
                     [(1 + n % chats, n, seen(n)) for n in range(1, total + 1, 10)])
    conn.execute("COMMIT")
    conn.close()


async def former_prune(db: Database, now: float, retention: float) -> int:
    """Pruning as it was: every old entry in one DELETE, one transaction."""
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM entries WHERE last_seen_at < ?",
                                    (now - retention,))
        return cursor.rowcount


async def measured(path: Path, prune, cutoff_now: float) -> dict:
    db = await Database.open(path)
    loop = asyncio.get_running_loop()
    running = True
    lags: list[float] = []
    waits: list[float] = []

    async def loop_ticker() -> None:
        while running:
            asked = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - asked - 0.01)

    async def connection_ticker() -> None:
        while running:
            asked = loop.time()
            await db.fetchone("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
            waits.append(loop.time() - asked)
            await asyncio.sleep(0.02)

    tickers = [asyncio.create_task(loop_ticker()), asyncio.create_task(connection_ticker())]
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    pruned = await prune(db, cutoff_now, RETENTION)
    elapsed = time.perf_counter() - started
    running = False
    await asyncio.gather(*tickers)
    await db.close()
    return {"pruned": pruned, "seconds": elapsed, "lag_max": max(lags),
            "lag_p99": _p99(lags), "wait_max": max(waits), "wait_p99": _p99(waits)}


def _p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def show(label: str, result: dict) -> None:
    print(f"{label:<44} {result['pruned']:>7,} entries  {result['seconds']:7.2f} s   "
          f"loop late max {result['lag_max'] * 1000:7.1f} ms (p99 {result['lag_p99'] * 1000:5.1f})"
          f"   connection wait max {result['wait_max'] * 1000:8.1f} ms "
          f"(p99 {result['wait_p99'] * 1000:6.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--first", type=int, default=40, help="old entries, first prune")
    parser.add_argument("--more", type=int, default=25_000, help="old entries, second prune")
    parser.add_argument("--batch", type=int, default=entries.PRUNE_BATCH)
    args = parser.parse_args()

    async def batched(db: Database, now: float, retention: float) -> int:
        return await entries.prune_entries(db, now, retention, batch=args.batch)

    async def idle(_db: Database, _now: float, _retention: float) -> int:
        await asyncio.sleep(3)  # the tickers alone: how late this machine runs anyway
        return 0

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.sqlite3"
        started = time.perf_counter()
        build(base, args.entries, args.first, args.more)
        rows = sqlite3.connect(base).execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        print(f"built {args.entries:,} entries, {rows:,} outbox rows "
              f"in {time.perf_counter() - started:.1f} s; batch {args.batch}")
        former = Path(folder) / "former.sqlite3"
        shutil.copy(base, former)
        conn = sqlite3.connect(former)
        for name in NEW_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.close()
        first_cut = NOW - 37 * DAY + RETENTION  # between the two old groups
        show("idle: no pruning, 3 s", asyncio.run(measured(base, idle, first_cut)))
        show("baseline: one DELETE, no 014 indexes",
             asyncio.run(measured(former, former_prune, first_cut)))
        show("now: batches, indexes (same entries)",
             asyncio.run(measured(base, batched, first_cut)))
        show("now: batches, indexes (the next old ones)",
             asyncio.run(measured(base, batched, NOW - DAY + RETENTION)))
    print("target: loop never late by more than 100 ms")


if __name__ == "__main__":
    main()
