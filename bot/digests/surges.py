"""Is a topic surging? A pure decision over match counts (entries counted by publication
time, so that catching up after downtime is not a surge).

A surge: at least `min_entries` matched entries within the window, and at
least `factor` times the topic's average for a window of that length over the
7 days before it. With no history that average is zero, so `min_entries`
alone decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import SurgesConfig

HISTORY = 7 * 86400.0


@dataclass(frozen=True)
class TopicCounts:
    """Matched entries of one topic: within the window, and in the 7 days before it."""

    topic: str
    in_window: int
    languages: int  # distinct languages among the window's entries
    before: int


@dataclass(frozen=True)
class Surge:
    topic: str
    entries: int
    languages: int
    rate: float  # the 7-day average, per window
    ratio: float | None  # entries / rate; None when the rate is zero


def detect_surge(counts: TopicCounts, rule: SurgesConfig) -> Surge | None:
    rate = counts.before * rule.window / HISTORY
    if counts.in_window < rule.min_entries:
        return None
    if counts.in_window < rule.factor * rate:
        return None
    ratio = counts.in_window / rate if rate > 0 else None
    return Surge(counts.topic, counts.in_window, counts.languages, rate, ratio)
