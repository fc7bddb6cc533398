"""The one backoff policy: how long to wait before retry number `attempt` (pure).

Feeds, the translation provider, alert delivery and every Bot API call wait
this way after a failure: doubling from `base`, at most `cap`, then spread by a
jitter factor the caller draws (so many callers retrying do not line up).
"""

from __future__ import annotations


def backoff_delay(attempt: int, base: float, cap: float, factor: float = 1.0) -> float:
    """Seconds before retry `attempt` (0 = the first retry): base * 2**attempt, capped, times
    `factor` (1.0 for none; e.g. a draw in [0.9, 1.1) for +-10 % jitter)."""
    exponent = min(max(attempt, 0), 64)
    return min(cap, base * 2.0 ** exponent) * factor
