"""When each feed is next due: its interval with jitter, or backoff after failures (pure)."""

from __future__ import annotations

import math
import random

from bot.backoff import backoff_delay

MAX_BACKOFF = 6 * 3600.0
JITTER = 0.1  # +-10 %, so feeds added together drift apart instead of firing at once


def next_poll_after_success(now: float, interval: float, rng: random.Random) -> float:
    """The next poll of a healthy feed: one interval from now, jittered."""
    return now + interval * rng.uniform(1 - JITTER, 1 + JITTER)


def failure_delay(interval: float, failures: int, rng: random.Random) -> float:
    """Delay after `failures` consecutive failures (>= 1): doubling from the interval.

    Capped at 6 h, except that a feed polled less often than that keeps its interval.
    """
    delay = backoff_delay(max(failures, 1), interval, math.inf, rng.uniform(1 - JITTER, 1 + JITTER))
    return max(interval, min(delay, MAX_BACKOFF))


def next_poll_after_failure(now: float, interval: float, failures: int,
                            rng: random.Random) -> float:
    return now + failure_delay(interval, failures, rng)
