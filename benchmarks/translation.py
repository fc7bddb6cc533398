"""Translation cost of fan-out: provider calls, characters and time per alert, local LibreTranslate.

Run: .venv/bin/python benchmarks/translation.py
One matched French entry goes to 1,000 subscribers reading en, fr and ru,
then 100 entries to the same subscribers, then the same 100 after a restart.
The baseline is a translator called once per alert with no cache.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import TranslationConfig
from bot.store.db import Database
from bot.translation import Translator
from tests.fakes.libretranslate import FakeLibreTranslate

SUBSCRIBERS = 1000
LANGUAGES = ("en", "fr", "ru")
SOURCE = "fr"
ENTRIES = 100
SUMMARY = ("Les dirigeants européens se sont réunis mardi à Paris. Ils ont discuté d'une force "
           "de réassurance pour l'Ukraine. Aucune décision n'a été annoncée. ") * 4


def entry(i: int) -> tuple[str, str]:
    return f"Des troupes occidentales en Ukraine ? Réunion n°{i} à Paris", f"{i}. {SUMMARY}"


async def fan_out(translator: Translator, entries: list[tuple[str, str]]) -> float:
    """Every entry to every subscriber, entry by entry as the pipeline does; seconds taken."""
    targets = [LANGUAGES[i % len(LANGUAGES)] for i in range(SUBSCRIBERS)]
    started = time.perf_counter()
    for title, summary in entries:
        await asyncio.gather(*(translator.translate_entry(title, summary, SOURCE, target)
                               for target in targets))
    return time.perf_counter() - started


async def phase(name: str, translator: Translator, server: FakeLibreTranslate,
                entries: list[tuple[str, str]]) -> None:
    before = await translator.stats()
    calls_before, chars_before = server.calls, server.characters
    seconds = await fan_out(translator, entries)
    after = await translator.stats()
    hits = after["hits"] - before["hits"]
    misses = after["misses"] - before["misses"]
    alerts = len(entries) * SUBSCRIBERS
    translated = len(entries) * sum(1 for i in range(SUBSCRIBERS)
                                    if LANGUAGES[i % len(LANGUAGES)] != SOURCE)
    baseline_chars = sum(len(t) + len(s) for t, s in entries) * translated // len(entries)
    print(f"{name}")
    print(f"  alerts                   {alerts:>10,}")
    print(f"  provider calls           {server.calls - calls_before:>10,}"
          f"   baseline {translated:,} (one per translated alert)")
    print(f"  characters sent          {server.characters - chars_before:>10,}"
          f"   baseline {baseline_chars:,}")
    print(f"  cache hit rate           {hits / max(1, hits + misses):>10.1%}")
    print(f"  time added per alert     {seconds / alerts * 1e6:>10.1f} µs"
          f"   ({seconds:.2f} s in all)")


async def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"{SUBSCRIBERS} subscribers over {', '.join(LANGUAGES)}; entries in {SOURCE}; "
          "deep-translator LibreTranslator -> local LibreTranslate fake\n")
    entries = [entry(i) for i in range(1, ENTRIES + 1)]
    with tempfile.TemporaryDirectory() as folder, FakeLibreTranslate() as server:
        path = Path(folder) / "bench.sqlite3"
        config = TranslationConfig(provider="libre", base_url=server.url, api_key="bench",
                                   timeout=5.0)
        db = await Database.open(path)
        translator = await Translator.create(config, db)
        started = time.perf_counter()
        await translator.translate_entry(*entry(0), SOURCE, "ru")
        print(f"one uncached entry, one subscriber: {(time.perf_counter() - started) * 1e3:.1f} ms"
              " (one round trip to the local server)\n")
        await phase("one entry, first time", translator, server, entries[:1])
        await phase("the same entry again", translator, server, entries[:1])
        await phase(f"{ENTRIES} entries", translator, server, entries)
        await translator.close()
        await db.close()

        db = await Database.open(path)
        translator = await Translator.create(config, db)
        await phase(f"the {ENTRIES} entries after a restart", translator, server, entries)
        totals = await translator.stats()
        await translator.close()
        await db.close()
    print(f"\ntotals kept for /stats: {totals['provider_calls']} calls, "
          f"{totals['characters_sent']:,} characters, hit rate {totals['hit_rate']:.1%}")


if __name__ == "__main__":
    asyncio.run(main())
