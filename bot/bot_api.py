"""What the sender and the rate limiter agree on about Telegram's Bot API: whose turn
comes first (a reply before a fan-out), and how long a 429 asks everyone to wait."""

from __future__ import annotations

import datetime as dt
import warnings

from telegram.error import RetryAfter

REPLY, BULK = 0, 1  # turn priorities: someone waits for a reply; a fan-out can wait


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns while moving retry_after to timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
