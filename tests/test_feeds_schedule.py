"""Scheduling is pure: seeded jitter around the interval, backoff doubling up to 6 h."""

from __future__ import annotations

import random

from bot.feeds.schedule import (
    MAX_BACKOFF,
    failure_delay,
    next_poll_after_failure,
    next_poll_after_success,
)


def test_next_poll_is_one_interval_away_within_ten_percent():
    rng = random.Random(7)
    times = [next_poll_after_success(1000.0, 300.0, rng) for _ in range(200)]
    assert all(1270.0 <= t <= 1330.0 for t in times)
    assert len(set(times)) > 100  # jitter spreads feeds added together


def test_seeded_jitter_is_reproducible():
    assert ([next_poll_after_success(0, 60, random.Random(1)) for _ in range(3)]
            == [next_poll_after_success(0, 60, random.Random(1)) for _ in range(3)])


def test_backoff_doubles_with_each_failure_and_stops_at_six_hours():
    rng = random.Random(3)
    delays = [failure_delay(300.0, n, rng) for n in range(1, 12)]
    assert 540 <= delays[0] <= 660 and 1080 <= delays[1] <= 1320
    assert all(d <= MAX_BACKOFF for d in delays)
    assert delays[-1] == MAX_BACKOFF == 6 * 3600


def test_a_slow_feed_never_backs_off_below_its_interval():
    assert failure_delay(12 * 3600.0, 1, random.Random(0)) == 12 * 3600.0


def test_failure_schedules_from_now():
    assert next_poll_after_failure(100.0, 0.5, 1, random.Random(0)) > 100.0
