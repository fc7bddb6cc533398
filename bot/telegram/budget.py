"""The bot's one Telegram budget: when the next message may go, to whom (pure; the clock is given).

Telegram allows about 30 messages a second overall, one a second per private
chat and 20 a minute per group or channel, and answers 429 with `retry_after`
beyond that. Every message of the bot (alerts, replies, files, edits, health
reports) is counted here, so no kind of message can spend another's share.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class TelegramLimits:
    """How fast to send. The defaults keep just under Telegram's limits."""

    per_second: float = 29.0  # overall spacing; Telegram allows about 30
    per_window: int = 30  # sends in flight or answered within the last `window`, at most
    window: float = 1.0
    chat_interval: float = 1.0  # private chats: one a second
    group_interval: float = 3.05  # groups and channels: 20 a minute

    def scaled(self, factor: float) -> TelegramLimits:
        """The same limits with every interval multiplied by `factor` (tests)."""
        return replace(self, per_second=self.per_second / factor, window=self.window * factor,
                       chat_interval=self.chat_interval * factor,
                       group_interval=self.group_interval * factor)



def is_group(chat_id: int | str) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username)."""
    return isinstance(chat_id, str) or chat_id < 0


class Budget:
    """Decides when a send may start; told when each starts, ends, or meets flood control.

    A caller asks `chat_delay` (outside any queue), then, in turn with the
    other senders, `overall_delay`; at zero it calls `start`, and `finish`
    when Telegram answered. Telegram counts a request when it arrives, which
    is somewhere between our send and its answer, so sends in flight and
    answers of the last window both count against `per_window`, whatever the
    latency; and a chat's interval runs from the answer as well as the start.
    """

    def __init__(self, limits: TelegramLimits | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.limits = limits or TelegramLimits()
        self.clock = clock or time.monotonic
        self._chat_ready: dict[int | str, float] = {}
        self._last_start = float("-inf")
        self._in_flight = 0
        self._answered: deque[float] = deque()
        self._paused_until = 0.0
        self.retry_afters = 0  # 429s met, all kinds of message

    def interval(self, chat_id: int | str) -> float:
        return self.limits.group_interval if is_group(chat_id) else self.limits.chat_interval

    def chat_delay(self, chat_id: int | str) -> float:
        """Seconds until this chat may get a message (flood control included)."""
        now = self.clock()
        ready = max(self._chat_ready.get(chat_id, 0.0), self._paused_until)
        return max(0.0, ready - now)

    def overall_delay(self) -> float:
        """Seconds until the bot as a whole may send its next message."""
        now = self.clock()
        limits = self.limits
        wait = max(0.0, self._paused_until - now,
                   self._last_start + 1.0 / limits.per_second - now)
        while self._answered and self._answered[0] <= now - limits.window:
            self._answered.popleft()
        if self._in_flight + len(self._answered) >= limits.per_window:
            # A slot frees when the oldest answer leaves the window; if every slot is in
            # flight, only an answer frees one, so look again shortly.
            oldest = self._answered[0] + limits.window - now if self._answered else 0.005
            wait = max(wait, oldest, 0.001)
        return wait

    def delay(self, chat_id: int | str) -> float:
        return max(self.chat_delay(chat_id), self.overall_delay())

    def start(self, chat_id: int | str | None) -> None:
        """A send goes now (`None`: not to one chat)."""
        now = self.clock()
        due = self._last_start + 1.0 / self.limits.per_second
        # A sleep overshoots by a millisecond or so; count from the planned time so that
        # does not add up, but never catch up by more than a few milliseconds.
        self._last_start = max(due, now - 0.005)
        self._in_flight += 1
        if chat_id is not None:
            self._chat_ready[chat_id] = now + self.interval(chat_id)
        self._forget_idle_chats(now)

    def finish(self, chat_id: int | str | None) -> None:
        """Telegram answered (whatever the answer) the send `start` let go."""
        now = self.clock()
        self._in_flight = max(0, self._in_flight - 1)
        self._answered.append(now)
        if chat_id is not None:
            self._chat_ready[chat_id] = max(self._chat_ready.get(chat_id, 0.0),
                                            now + self.interval(chat_id))

    def retry_after(self, chat_id: int | str | None, seconds: float) -> None:
        """Flood control: Telegram does not say whether the limit hit was this chat's or the
        bot's, so every send waits; one pause costs less than a cascade of 429s."""
        now = self.clock()
        self.retry_afters += 1
        until = now + seconds
        self._paused_until = max(self._paused_until, until)
        if chat_id is not None:
            self._chat_ready[chat_id] = max(self._chat_ready.get(chat_id, 0.0), until)

    def _forget_idle_chats(self, now: float) -> None:
        if len(self._chat_ready) > 4096:
            self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}
