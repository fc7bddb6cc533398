"""The /trend chart: matched entries per day (or hour) stacked by language, drawn to PNG bytes.

`draw_trend` is pure (data in, bytes out) and uses matplotlib's object API with
the Agg canvas, never pyplot's global state, so several charts may be drawn at
once in threads. `ChartPool` runs it off the event loop: a few worker threads,
a bounded queue and a timeout, so a slow chart never holds up other commands.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

WIDTH, HEIGHT, DPI = 10.0, 5.0, 100  # 1000 x 500 pixels
MAX_TICKS = 12  # labels on the x axis; the last slot is always one of them
COLOURS = {"en": "#1f77b4", "fr": "#d62728", "ru": "#2ca02c"}


@dataclass(frozen=True)
class TrendChart:
    """Everything drawn, already in the chat's language."""

    title: str
    labels: tuple[str, ...]  # one per bar (a day or an hour), as the chat's language writes it
    counts: Mapping[str, Sequence[int]]  # language -> entries per bar, aligned with labels
    legend: Mapping[str, str]  # language -> its name
    x_label: str
    y_label: str
    empty_text: str


def draw_trend(chart: TrendChart) -> bytes:
    """The chart as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    slots = list(range(len(chart.labels)))
    bottom = [0] * len(slots)
    total = 0
    for language, counts in chart.counts.items():
        values = list(counts)
        total += sum(values)
        axes.bar(slots, values, bottom=bottom, width=0.8, label=chart.legend.get(language, language),
                 color=COLOURS.get(language), align="center")
        bottom = [b + v for b, v in zip(bottom, values)]
    # A topic's title is text, not TeX: "$5 to $10" must not start mathtext.
    axes.set_title(chart.title, parse_math=False, usetex=False)
    axes.set_xlabel(chart.x_label)
    axes.set_ylabel(chart.y_label)
    ticks = tick_positions(len(slots))
    axes.set_xticks(ticks, [chart.labels[n] for n in ticks])
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if slots:
        axes.set_xlim(-0.6, slots[-1] + 0.6)
    if total == 0:
        axes.set_ylim(0, 1)
        axes.text(0.5, 0.5, chart.empty_text, transform=axes.transAxes, ha="center",
                  va="center", fontsize=14, color="#555555")
    else:
        axes.legend(loc="upper left")
    axes.grid(axis="y", alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def tick_positions(slots: int, most: int = MAX_TICKS) -> list[int]:
    """Which bars get a label: evenly spaced, at most `most`, counted back from the last
    so the latest day (or hour) is always labelled."""
    step = max(1, -(-slots // most))
    return sorted(range(slots - 1, -1, -step))


class ChartBusy(Exception):
    """Too many charts waiting already; the user is asked to try again."""


class ChartPool:
    """Draws charts in worker threads: at most `workers` at once, `queue` more waiting,
    each given `timeout` seconds."""

    def __init__(self, workers: int = 2, queue: int = 8, timeout: float = 20.0,
                 draw: Callable[[TrendChart], bytes] = draw_trend) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chart")
        self._slots = asyncio.BoundedSemaphore(workers + queue)
        self.timeout = timeout
        self.draw = draw

    async def render(self, chart: TrendChart) -> bytes:
        """PNG bytes; ChartBusy when the queue is full, TimeoutError past the timeout."""
        if self._slots.locked():
            raise ChartBusy()
        async with self._slots:
            future = asyncio.get_running_loop().run_in_executor(self._executor, self.draw, chart)
            return await asyncio.wait_for(future, self.timeout)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
