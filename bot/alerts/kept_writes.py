"""Outcomes of sends that the database refused to record (locked, full, read-only): kept in
memory and written again, oldest first, once it takes writes again.

A message Telegram accepted must never be sent again because its 'sent' could
not be written; holding the write here keeps the row's true state on its way
to the database, and the deliverer claims nothing new while any is kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.backoff import backoff_delay

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[object]]


class KeptWrites:
    def __init__(self, base: float, cap: float, on_kept: Callable[[], None]) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0  # consecutive refusals, for the backoff of writing again
        self._kept: deque[tuple[str, Write]] = deque()
        self._next_at = 0.0
        self._on_kept = on_kept

    def __len__(self) -> int:
        return len(self._kept)

    def retry_delay(self) -> float:
        return backoff_delay(max(0, self.failures - 1), self.base, self.cap)

    async def write(self, what: str, write: Write) -> None:
        """Write an outcome now, or keep it to write again, in order, while the database
        refuses; the first refusal is logged with the database's own error."""
        if not self._kept:
            try:
                await write()
                return
            except Exception as exc:
                log.error("recording %s failed (%r); kept in memory and written again "
                          "when the database takes it", what, exc)
                self.failures = 1
                self._next_at = time.monotonic() + self.retry_delay()
        self._kept.append((what, write))
        self._on_kept()

    async def rewrite(self) -> bool:
        """Write the kept outcomes, oldest first; True once none is left."""
        if not self._kept:
            return True
        if time.monotonic() < self._next_at:
            return False
        while self._kept:
            _, write = self._kept[0]
            try:
                await write()
            except Exception as exc:
                self.failures += 1
                delay = self.retry_delay()
                self._next_at = time.monotonic() + delay
                log.warning("the database still refuses (%r); %d alert states kept, "
                            "next try in %.1fs", exc, len(self._kept), delay)
                return False
            self._kept.popleft()
        log.info("the database takes writes again: every kept alert state is recorded")
        self.failures = 0
        return True

    async def flush(self, within: float) -> None:
        """On the way out: keep trying for `within` seconds, then say what is left."""
        deadline = time.monotonic() + within
        while self._kept and time.monotonic() < deadline:
            if not await self.rewrite():
                await asyncio.sleep(min(self.retry_delay(),
                                        max(0.0, deadline - time.monotonic())))
        if self._kept:
            log.error("stopping with %d alert states the database did not take (%s); "
                      "their alerts may be sent again at the next start",
                      len(self._kept), ", ".join(what for what, _ in self._kept)[:300])
