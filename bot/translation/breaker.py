"""When to call the translation provider again: retry backoff and a circuit breaker.

Pure: the time is always passed in, and jitter is a number the caller draws.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.backoff import backoff_delay


def retry_delay(attempt: int, jitter: float, base: float = 0.2, cap: float = 2.0) -> float:
    """Seconds to wait before retry number `attempt` (0-based); `jitter` in [0, 1)."""
    # Half fixed, half random: retries from many callers spread out instead of
    # hitting a struggling provider together.
    return backoff_delay(attempt, base, cap, 0.5 + jitter / 2)


@dataclass
class CircuitBreaker:
    """Closed: calls go through. Open: none do, until `cooldown` has passed.
    Half-open: one trial call; its success closes the breaker, its failure reopens it.
    """

    threshold: int = 5  # consecutive failures that open the breaker
    cooldown: float = 30.0  # seconds open before one trial call
    failures: int = 0
    opened_at: float | None = None
    trial_at: float | None = None

    def state(self, now: float) -> str:
        if self.opened_at is None:
            return "closed"
        if self.trial_at is not None or now - self.opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def allow(self, now: float) -> bool:
        """Whether a call may go out now; in half-open state only the trial call may."""
        if self.opened_at is None:
            return True
        if now - self.opened_at < self.cooldown:
            return False
        # A trial whose outcome never came back must not keep the breaker shut.
        if self.trial_at is None or now - self.trial_at >= self.cooldown:
            self.trial_at = now
            return True
        return False

    def record_success(self, now: float) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_at = None

    def record_failure(self, now: float, fatal: bool = False) -> None:
        """`fatal`: a failure that retrying cannot fix (a refused key) opens it at once."""
        self.failures += 1
        if fatal or self.trial_at is not None or self.failures >= self.threshold:
            self.opened_at = now
            self.trial_at = None
