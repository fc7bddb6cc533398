"""How often a feed is polled: from how often it publishes, never sooner than it asks.

Pure: times are POSIX seconds passed in. The interval follows the median gap between
the publication times of the feed's last entries (miniflux and CommaFeed do the same
in spirit), kept within [min_interval, max_interval]; a feed's own configured interval
fixes it; and what the feed itself asks (`<ttl>`, Cache-Control max-age, Expires,
Retry-After) is a floor no interval goes under.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from bot.feeds.fetch import retry_after_seconds

RECENT_ENTRIES = 20


@dataclass(frozen=True)
class PollingPolicy:
    default: float  # polling.interval: a feed's interval until it has a history
    minimum: float  # polling.min_interval
    maximum: float  # polling.max_interval
    adaptive: bool = True


def feed_interval(policy: PollingPolicy, fixed: float | None,
                  published: Iterable[float], now: float) -> float:
    """Seconds between two polls of a feed.

    `fixed` is the feed's own `interval` from the config (it wins); `published` the
    publication (or first-seen) times of its recent entries, in any order.
    """
    if fixed is not None:
        return fixed
    if not policy.adaptive:
        return policy.default
    gap = publishing_gap(published, now)
    if gap is None:
        return policy.default
    return min(max(gap, policy.minimum), policy.maximum)


def publishing_gap(published: Iterable[float], now: float) -> float | None:
    """The median gap between the last entries' distinct times; None without two.

    Equal times are one: a first poll records a whole undated feed at one instant,
    which says nothing about how often it publishes. A silence is not stretched into
    a longer interval (as CommaFeed does): a wire quiet overnight would then hear of
    the morning's first news hours late; max_interval bounds an idle feed instead.
    """
    times = sorted({t for t in published if t <= now})[-RECENT_ENTRIES:]
    if len(times) < 2:
        return None
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    return statistics.median(gaps)


def requested_delay(headers: Mapping[str, str], ttl_minutes: str | int | None,
                    now: float) -> float:
    """The seconds the feed asked us to wait before asking again (0: it did not ask).

    `headers` are the response's, lower-case names; `ttl_minutes` the RSS `<ttl>`.
    The longest request wins: each is the publisher saying "not before".
    """
    asked = [0.0]
    ttl = _number(ttl_minutes)
    if ttl is not None:
        asked.append(ttl * 60)
    max_age = _max_age(headers.get("cache-control", ""))
    if max_age is not None:
        asked.append(max_age)
    elif "expires" in headers:  # Cache-Control wins over Expires (RFC 9111, 5.3)
        expires = _http_date(headers["expires"])
        if expires is not None:
            asked.append(expires - _http_date_or(headers.get("date"), now))
    retry_after = retry_after_seconds(headers.get("retry-after"), now)
    if retry_after is not None:
        asked.append(retry_after)
    return max(asked)


def next_poll_at(now: float, interval: float, requested: float, jitter: float) -> float:
    """When the feed is next due: its interval (times a jitter factor near 1), but never
    before what it asked."""
    return now + max(interval * jitter, requested)


def _max_age(cache_control: str) -> float | None:
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() in ("max-age", "s-maxage"):
            number = _number(value.strip().strip('"'))
            if number is not None:
                return number
    return None


def _number(value: str | int | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if 0 <= number < 10 * 365 * 86400 else None


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return when.timestamp()


def _http_date_or(value: str | None, default: float) -> float:
    when = _http_date(value)
    return default if when is None else when
