"""Digest periods as pure functions of (mode, time zone, now): no clock, no sleeping."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digests.schedule import (
    BadDigestMode,
    DigestMode,
    last_end,
    next_end,
    parse_mode,
    period_at,
)

PARIS = ZoneInfo("Europe/Paris")
DAILY_8 = DigestMode("daily", at=time(8, 0))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(instant: datetime, zone: ZoneInfo = PARIS) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M%z")


@pytest.mark.parametrize("words, expected", [
    (["off"], "off"), (["hourly"], "hourly"), (["daily"], "daily 08:00"),
    (["daily", "7:05"], "daily 07:05"), (["DAILY", "23:59"], "daily 23:59"),
    (["every", "1m"], "every 1m"), (["every", "90m"], "every 90m"),
    (["every", "2h"], "every 2h"), (["every", "3600"], "every 1h"),
])
def test_modes_parse_and_print_back(words, expected):
    assert str(parse_mode(words)) == expected


@pytest.mark.parametrize("words", [
    [], ["weekly"], ["daily", "24:00"], ["daily", "8"], ["daily", "08:00", "x"],
    ["every"], ["every", "30s"], ["every", "59"], ["every", "soon"], ["off", "now"],
])
def test_bad_modes_are_refused(words):
    with pytest.raises(BadDigestMode):
        parse_mode(words)


def test_daily_0800_fires_at_0800_local_every_day_across_spring_forward():
    # Paris moves from +01:00 to +02:00 at 02:00 local on Sunday 29 March 2026.
    now = utc("2026-03-27T12:00")
    ends = []
    for _ in range(4):
        end = next_end(DAILY_8, PARIS, now)
        ends.append(end)
        now = end
    assert [local(e) for e in ends] == ["2026-03-28 08:00+0100", "2026-03-29 08:00+0200",
                                        "2026-03-30 08:00+0200", "2026-03-31 08:00+0200"]
    assert ends[1] - ends[0] == timedelta(hours=23)  # the short night
    assert ends[2] - ends[1] == timedelta(hours=24)


def test_daily_0800_fires_at_0800_local_across_fall_back():
    # Paris moves from +02:00 back to +01:00 at 03:00 local on Sunday 25 October 2026.
    period = period_at(DAILY_8, PARIS, utc("2026-10-25T05:00"))
    assert local(period.start) == "2026-10-24 08:00+0200"
    assert local(period.end) == "2026-10-25 08:00+0100"
    assert period.end - period.start == timedelta(hours=25)
    assert period.end == utc("2026-10-25T07:00")


def test_daily_time_skipped_by_spring_forward_fires_when_the_gap_ends():
    mode = parse_mode(["daily", "02:30"])
    period = period_at(mode, PARIS, utc("2026-03-28T12:00"))
    assert local(period.start) == "2026-03-28 02:30+0100"
    assert local(period.end) == "2026-03-29 03:00+0200"  # 02:30 does not exist that day
    following = period_at(mode, PARIS, period.end)
    assert following.start == period.end
    assert local(following.end) == "2026-03-30 02:30+0200"


def test_daily_time_repeated_by_fall_back_fires_once_at_its_first_occurrence():
    mode = parse_mode(["daily", "02:30"])
    first = next_end(mode, PARIS, utc("2026-10-24T12:00"))
    assert first == utc("2026-10-25T00:30")  # 02:30 +02:00
    second = next_end(mode, PARIS, first)
    assert local(second) == "2026-10-26 02:30+0100"  # not 02:30 +01:00 the same day


def test_period_contains_now_and_is_half_open():
    period = period_at(DAILY_8, PARIS, utc("2026-06-01T06:00"))  # 08:00 local exactly
    assert period.start == utc("2026-06-01T06:00")
    assert period.end == utc("2026-06-02T06:00")
    assert last_end(DAILY_8, PARIS, utc("2026-06-01T05:59")) == utc("2026-05-31T06:00")


def test_hourly_follows_the_local_clock_even_half_an_hour_off_utc():
    kolkata = ZoneInfo("Asia/Kolkata")
    period = period_at(parse_mode(["hourly"]), kolkata, utc("2026-01-01T10:10"))
    assert (period.start, period.end) == (utc("2026-01-01T09:30"), utc("2026-01-01T10:30"))


def test_hourly_periods_stay_one_hour_across_fall_back():
    hourly = parse_mode(["hourly"])
    now = utc("2026-10-24T23:30")
    ends = []
    for _ in range(4):
        now = next_end(hourly, PARIS, now)
        ends.append(now)
    assert [b - a for a, b in zip(ends, ends[1:])] == [timedelta(hours=1)] * 3
    assert [local(e) for e in ends] == ["2026-10-25 02:00+0200", "2026-10-25 02:00+0100",
                                        "2026-10-25 03:00+0100", "2026-10-25 04:00+0100"]


def test_every_duration_counts_fixed_periods_from_the_epoch():
    mode = parse_mode(["every", "1m"])
    period = period_at(mode, PARIS, utc("2026-03-29T01:59:30"))
    assert (period.start, period.end) == (utc("2026-03-29T01:59"), utc("2026-03-29T02:00"))
    mode = parse_mode(["every", "90m"])
    end = next_end(mode, PARIS, utc("2026-01-01T00:00"))
    assert end == utc("2026-01-01T01:30")
    assert next_end(mode, PARIS, end) - end == timedelta(minutes=90)


def test_off_has_no_periods():
    with pytest.raises(ValueError):
        period_at(parse_mode(["off"]), PARIS, utc("2026-01-01T00:00"))
