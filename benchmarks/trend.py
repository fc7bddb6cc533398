"""Drawing the /trend chart: seconds per 30-day, three-language chart, and the event loop
kept free meanwhile.

Run: .venv/bin/python benchmarks/trend.py
The baseline, measured in the same run with the same code, is an empty chart
(the axes, title and labels with no bars): what is left is the bars' own cost.
Target: a 30-day chart in under 1 s. Then, while charts are drawn in the pool,
a coroutine that should wake every 10 ms measures how late the loop lets it.
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.digests.chart import ChartPool, draw_trend
from bot.telegram.digest_commands import trend_chart

RUNS = 10
DAYS = 30


def rows_for(days: int) -> list[tuple[str, str, int]]:
    first = date(2026, 3, 1)
    return [((first + timedelta(days=d)).isoformat(), language, (d * k) % 17 + 1)
            for d in range(days) for k, language in enumerate(("en", "fr", "ru"), start=3)]


def timed(chart) -> list[float]:
    seconds = []
    for _ in range(RUNS):
        start = time.perf_counter()
        draw_trend(chart)
        seconds.append(time.perf_counter() - start)
    return seconds


async def loop_lateness(pool: ChartPool, chart, charts: int) -> tuple[float, float]:
    """(worst wake-up delay of a 10 ms ticker, seconds for `charts` charts) while drawing."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - start - 0.01)

    task = asyncio.create_task(ticker())
    start = time.perf_counter()
    await asyncio.gather(*(pool.render(chart) for _ in range(charts)))
    took = time.perf_counter() - start
    done.set()
    await task
    return worst, took


def main() -> None:
    full = trend_chart("en", "Oreshnik", date(2026, 3, 1), DAYS, rows_for(DAYS))
    empty = trend_chart("en", "Oreshnik", date(2026, 3, 1), DAYS, [])
    start = time.perf_counter()
    draw_trend(empty)  # imports matplotlib and builds its font cache once
    first = time.perf_counter() - start
    baseline = timed(empty)
    measured = timed(full)
    print(f"python {platform.python_version()}, {platform.machine()}, {RUNS} runs each")
    print(f"first chart of the process (imports matplotlib): {first:.3f} s")
    print(f"empty {DAYS}-day chart (baseline): median {statistics.median(baseline):.3f} s, "
          f"max {max(baseline):.3f} s")
    print(f"{DAYS}-day chart, 3 languages:     median {statistics.median(measured):.3f} s, "
          f"max {max(measured):.3f} s  (target < 1 s: "
          f"{'met' if max(measured) < 1 else 'MISSED'})")
    pool = ChartPool()
    worst, took = asyncio.run(loop_lateness(pool, full, 6))
    pool.close()
    print(f"6 charts through the pool: {took:.2f} s; event loop's worst lateness meanwhile "
          f"{worst * 1000:.1f} ms")


if __name__ == "__main__":
    main()
