"""How often each feed is polled, on a fake clock (pure)."""

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from bot.feeds.adaptive import (
    PollingPolicy,
    feed_interval,
    next_poll_at,
    publishing_gap,
    requested_delay,
)

NOW = 1_800_000_000.0
POLICY = PollingPolicy(default=300, minimum=60, maximum=7200)


def _every(seconds: float, count: int, last_ago: float = 0) -> list[float]:
    return [NOW - last_ago - i * seconds for i in range(count)]


def test_a_busy_wire_is_polled_at_its_publishing_gap():
    assert feed_interval(POLICY, None, _every(120, 30), NOW) == 120


def test_a_quiet_blog_is_polled_at_most_every_max_interval():
    assert feed_interval(POLICY, None, _every(7 * 86400, 10), NOW) == 7200


def test_a_feed_publishing_in_bursts_is_kept_at_min_interval():
    assert feed_interval(POLICY, None, _every(5, 25), NOW) == 60


def test_without_a_history_the_default_interval_holds():
    assert feed_interval(POLICY, None, [], NOW) == 300
    assert feed_interval(POLICY, None, [NOW - 50], NOW) == 300
    # a first poll of an undated feed records everything at one instant
    assert feed_interval(POLICY, None, [NOW - 10] * 20, NOW) == 300


def test_a_configured_interval_fixes_it_and_adaptive_off_uses_the_default():
    assert feed_interval(POLICY, 900, _every(60, 20), NOW) == 900
    fixed = PollingPolicy(default=300, minimum=60, maximum=7200, adaptive=False)
    assert feed_interval(fixed, None, _every(60, 20), NOW) == 300


def test_only_the_last_twenty_entries_count():
    old_slow = [NOW - 100_000 - i * 50_000 for i in range(30)]
    recent_fast = _every(90, 20)
    assert publishing_gap(old_slow + recent_fast, NOW) == 90


def test_a_silence_does_not_slow_a_busy_feed():
    # one entry every 2 minutes, the last 3 hours ago (a wire's night): the morning's
    # first news must not wait hours
    assert publishing_gap(_every(120, 20, last_ago=3 * 3600), NOW) == 120


def test_future_times_are_ignored():
    assert publishing_gap([NOW + 500, NOW + 900] + _every(200, 5), NOW) == 200


def test_ttl_is_minutes_and_a_floor():
    assert requested_delay({}, "60", NOW) == 3600
    assert requested_delay({}, None, NOW) == 0
    assert requested_delay({}, "soon", NOW) == 0


def test_cache_control_max_age_wins_over_expires():
    expires = format_datetime(datetime.fromtimestamp(NOW + 9000, UTC), usegmt=True)
    headers = {"cache-control": "public, max-age=600", "expires": expires}
    assert requested_delay(headers, None, NOW) == 600


def test_expires_counts_from_the_response_date():
    date = format_datetime(datetime.fromtimestamp(NOW - 100, UTC), usegmt=True)
    expires = format_datetime(datetime.fromtimestamp(NOW + 800, UTC), usegmt=True)
    assert requested_delay({"expires": expires, "date": date}, None, NOW) == 900
    assert requested_delay({"expires": "0"}, None, NOW) == 0  # "already expired"


def test_retry_after_in_seconds_or_as_a_date():
    assert requested_delay({"retry-after": "120"}, None, NOW) == 120
    when = format_datetime(datetime.fromtimestamp(NOW + 1800, UTC), usegmt=True)
    assert requested_delay({"retry-after": when}, None, NOW) == 1800


def test_the_longest_request_wins():
    headers = {"cache-control": "max-age=300", "retry-after": "1200"}
    assert requested_delay(headers, "10", NOW) == 1200


def test_a_feed_is_never_polled_sooner_than_it_asks():
    assert next_poll_at(NOW, 120, 0, 1.0) == NOW + 120
    assert next_poll_at(NOW, 120, 3600, 1.0) == NOW + 3600
    assert next_poll_at(NOW, 120, 0, 0.9) == pytest.approx(NOW + 108)
