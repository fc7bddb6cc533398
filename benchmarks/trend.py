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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.digests.chart import ChartPool, draw_trend
from bot.digests.trend import count_slots, trend_chart, trend_span

RUNS = 10
DAYS = 30


NOW = datetime(2026, 3, 30, 12, tzinfo=UTC).timestamp()


def chart_for(days: int, filled: bool):
    span = trend_span(f"{days}d", NOW, UTC)
    published = [(start.timestamp() + 3600, language)
                 for d, start in enumerate(span.starts)
                 for k, language in enumerate(("en", "fr", "ru"), start=3)
                 for _ in range((d * k) % 17 + 1)] if filled else []
    return trend_chart("en", "Oreshnik", span, "UTC", count_slots(span, published))


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
    full = chart_for(DAYS, True)
    empty = chart_for(DAYS, False)
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
