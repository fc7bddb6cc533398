"""Translation cost of fan-out: provider calls, characters and time per alert, local LibreTranslate.

Run: .venv/bin/python benchmarks/translation.py [--entries 10]
One matched French entry goes to 1,000 subscribers reading en, fr and ru,
then N entries to the same subscribers, then the same N after a restart.
Each phase runs twice against the same server: through the bot's Translator,
and through the baseline, deep-translator's LibreTranslator called once per
translated alert with title and whole summary, no cache, in as many threads
as the Translator's pool.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deep_translator import LibreTranslator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import TranslationConfig
from bot.store.db import Database
from bot.translation import Translator
from tests.fakes.libretranslate import FakeLibreTranslate

SUBSCRIBERS = 1000
LANGUAGES = ("en", "fr", "ru")
SOURCE = "fr"
WORKERS = 4  # the Translator's default pool, given to the baseline too
SUMMARY = ("Les dirigeants européens se sont réunis mardi à Paris. Ils ont discuté d'une force "
           "de réassurance pour l'Ukraine. Aucune décision n'a été annoncée. ") * 4


def entry(i: int) -> tuple[str, str]:
    return f"Des troupes occidentales en Ukraine ? Réunion n°{i} à Paris", f"{i}. {SUMMARY}"


def targets() -> list[str]:
    return [LANGUAGES[i % len(LANGUAGES)] for i in range(SUBSCRIBERS)]


async def fan_out(translator: Translator, entries: list[tuple[str, str]]) -> float:
    """Every entry to every subscriber, entry by entry as the pipeline does; seconds taken."""
    started = time.perf_counter()
    for title, summary in entries:
        await asyncio.gather(*(translator.translate_entry(title, summary, SOURCE, target)
                               for target in targets()))
    return time.perf_counter() - started


class Baseline:
    """One provider request per translated alert: title and whole summary, no cache."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="baseline")

    def translate(self, title: str, summary: str, target: str) -> str:
        client = LibreTranslator(source=SOURCE, target=target, api_key="bench",
                                 custom_url=self.url + "/")
        return client.translate(f"{title}\n\n{summary}")

    async def fan_out(self, entries: list[tuple[str, str]]) -> float:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        for title, summary in entries:
            await asyncio.gather(*(loop.run_in_executor(self.pool, self.translate, title,
                                                        summary, target)
                                   for target in targets() if target != SOURCE))
        return time.perf_counter() - started

    def close(self) -> None:
        self.pool.shutdown()


async def phase(name: str, translator: Translator, baseline: Baseline,
                server: FakeLibreTranslate, entries: list[tuple[str, str]]) -> None:
    before = await translator.stats()
    calls, chars = server.calls, server.characters
    seconds = await fan_out(translator, entries)
    calls, chars = server.calls - calls, server.characters - chars
    after = await translator.stats()
    base_calls, base_chars = server.calls, server.characters
    base_seconds = await baseline.fan_out(entries)
    base_calls, base_chars = server.calls - base_calls, server.characters - base_chars
    hits = after["hits"] - before["hits"]
    misses = after["misses"] - before["misses"]
    alerts = len(entries) * SUBSCRIBERS
    print(f"{name}")
    print(f"  alerts                   {alerts:>10,}")
    print(f"  provider calls           {calls:>10,}   baseline {base_calls:,}")
    print(f"  characters sent          {chars:>10,}   baseline {base_chars:,}")
    print(f"  cache hit rate           {hits / max(1, hits + misses):>10.1%}")
    print(f"  time per alert           {seconds / alerts * 1e6:>10.1f} µs"
          f"   baseline {base_seconds / alerts * 1e6:,.1f} µs"
          f"   ({seconds:.2f} s and {base_seconds:.2f} s in all)")


async def main(count: int) -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"{SUBSCRIBERS} subscribers over {', '.join(LANGUAGES)}; entries in {SOURCE}; "
          "deep-translator LibreTranslator -> local LibreTranslate fake\n")
    entries = [entry(i) for i in range(1, count + 1)]
    with tempfile.TemporaryDirectory() as folder, FakeLibreTranslate() as server:
        path = Path(folder) / "bench.sqlite3"
        config = TranslationConfig(provider="libre", base_url=server.url, api_key="bench",
                                   timeout=5.0)
        baseline = Baseline(server.url)
        db = await Database.open(path)
        translator = await Translator.create(config, db, workers=WORKERS)
        started = time.perf_counter()
        await translator.translate_entry(*entry(0), SOURCE, "ru")
        one = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(baseline.pool, baseline.translate,
                                                         *entry(0), "ru")
        print(f"one uncached entry, one subscriber: {one * 1e3:.1f} ms, baseline "
              f"{(time.perf_counter() - started) * 1e3:.1f} ms (one round trip each)\n")
        await phase("one entry, first time", translator, baseline, server, entries[:1])
        await phase("the same entry again", translator, baseline, server, entries[:1])
        await phase(f"{count} entries (the first already seen)", translator, baseline, server,
                    entries)
        await translator.close()
        await db.close()

        db = await Database.open(path)
        translator = await Translator.create(config, db, workers=WORKERS)
        await phase(f"the {count} entries after a restart", translator, baseline, server,
                    entries)
        totals = await translator.stats()
        await translator.close()
        await db.close()
        baseline.close()
    print(f"\ntotals kept for /stats: {totals['provider_calls']} calls, "
          f"{totals['characters_sent']:,} characters, hit rate {totals['hit_rate']:.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10)
    asyncio.run(main(parser.parse_args().entries))
