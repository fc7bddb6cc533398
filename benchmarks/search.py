"""Benchmark: /search over the stored entries of a week, against the /addtopic backtest.

The corpus's entries (fr, en, ru) are stored in a real SQLite file, copied to reach
about 2,000, 20,000 and 60,000 entries published within the last 7 days (a week of
a few hundred feeds). At each size one search runs its store read
(`searchable_since`) and its matching (`search_entries`, three queries, off the event
loop as /search does), then the story lookup of what it found; the baseline is the
backtest /addtopic already answers with (`texts_since` + `backtest`) for the same
three queries on the same file. The event loop's worst lateness during the search
is measured too: the matching runs in a thread and must not stall other chats.

    .venv/bin/python benchmarks/search.py [--corpus PATH] [--sizes 2000,20000,60000]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.feeds.parse import ParseError, parse_entries
from bot.feeds.refresh import remember_entries
from bot.matching.backtest import backtest
from bot.matching.search import search_entries
from bot.model import Entry
from bot.store.db import Database
from bot.store.entries import searchable_since, texts_since
from bot.store.feeds import add_feed
from bot.store.stories import stories_of_entries

LANGUAGES = ("en", "fr", "ru")
# What a reader searches: an event in the news, in each language as /search fills it.
QUERIES = {"en": "ukraine AND (missile* OR strike*)", "fr": "ukraine AND (missile* OR frappe*)",
           "ru": "украин* AND (ракет* OR удар*)"}
WEEK = 7 * 86400


def corpus_entries(corpus: Path, now: datetime) -> list[Entry]:
    found = []
    for language in LANGUAGES:
        for path in sorted((corpus / "feeds" / language).glob("*.xml")):
            try:
                found += parse_entries(path.read_bytes(), None, language, now)
            except ParseError:
                continue
    return found


async def fill(db: Database, entries: list[Entry], size: int, now: datetime) -> int:
    """`size` entries (corpus copies, new keys), spread over the last week."""
    stored = 0
    copy = 0
    while stored < size:
        for language in LANGUAGES:
            feed = await add_feed(db, f"https://{language}{copy}.example/rss", language,
                                  f"{language} {copy}")
            batch = []
            for number, entry in enumerate(e for e in entries if e.language == language):
                if stored + len(batch) >= size:
                    break
                age = timedelta(seconds=(number * 7919 + copy * 104729) % WEEK)
                batch.append(replace(entry, key=f"{copy}:{entry.key}",
                                     link=f"{entry.link}#{copy}", published=now - age))
            await remember_entries(db, feed, batch, now.timestamp(), baseline=True)
            stored += len(batch)
        copy += 1
    return stored


async def lateness_while(work) -> tuple[float, object]:
    """The event loop's worst delay past a 10 ms tick while `work` runs, and its result."""
    worst = 0.0
    done = asyncio.Event()

    async def ticks() -> None:
        nonlocal worst
        loop = asyncio.get_running_loop()
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(0.01)
            worst = max(worst, loop.time() - before - 0.01)

    task = asyncio.create_task(ticks())
    try:
        result = await work
    finally:
        done.set()
        await task
    return worst, result


async def one_size(entries: list[Entry], size: int, now: datetime, folder: Path) -> None:
    db = await Database.open(folder / f"search-{size}.sqlite3")
    try:
        stored = await fill(db, entries, size, now)
        since = now.timestamp() - WEEK
        await searchable_since(db, since)  # warm the page cache and the stem cache
        await asyncio.to_thread(search_entries, QUERIES, await searchable_since(db, since))

        start = time.perf_counter()
        rows = await searchable_since(db, since)
        read = time.perf_counter() - start
        start = time.perf_counter()
        lateness, found = await lateness_while(asyncio.to_thread(search_entries, QUERIES, rows))
        match = time.perf_counter() - start
        start = time.perf_counter()
        await stories_of_entries(db, [entry.id for entry in found])
        lookup = time.perf_counter() - start

        start = time.perf_counter()
        texts = await texts_since(db, since)
        results = await asyncio.to_thread(backtest, QUERIES, texts)
        baseline = time.perf_counter() - start
        matched = sum(result.matched for result in results)
        total = read + match + lookup
        print(f"{stored:>7,} | {read * 1000:>8.0f} | {match * 1000:>8.0f} | {lookup * 1000:>6.1f} "
              f"| {total * 1000:>8.0f} | {baseline * 1000:>8.0f} | {total / baseline:>5.2f} "
              f"| {len(found):>5} / {matched:<5} | {lateness * 1000:>6.1f}")
    finally:
        await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO / ".." / "shared" / "corpus")
    parser.add_argument("--sizes", default="2000,20000,60000")
    args = parser.parse_args()
    if not (args.corpus / "feeds").is_dir():
        sys.exit(f"corpus not found at {args.corpus}")
    now = datetime.now(UTC)
    entries = corpus_entries(args.corpus, now)
    print(f"python {platform.python_version()}, {platform.machine()}; corpus {len(entries):,} "
          f"entries; queries {QUERIES}")
    print("entries | read ms | match ms | story ms | search ms | backtest ms (baseline) "
          "| ratio | found / backtest matched | loop lateness ms")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            await one_size(entries, size, now, Path(folder))


if __name__ == "__main__":
    asyncio.run(main())
