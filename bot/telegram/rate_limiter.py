"""Every Bot API call of the bot, through the one Telegram budget (a python-telegram-bot rate
limiter shared by the application's bot and the delivery bot).

A message waits its turn in `Budget`; replies go before bulk sends waiting at
the same time, and a chat's bulk sends wait while a reply to that chat waits.
Flood control (429) pauses every sender for `retry_after`. The outbox's sender
(bot/alerts/deliver.py) passes `rate_limit_args={"retry": False}`: for it this
limiter only paces, every error comes back at once and the outbox keeps the
retry. Command replies (the default) are sent again after a 429 or a network
error, for `give_up_after` at most, and never once the service stops: `close()`
(called as the stop begins) makes every waiting or retrying request give up.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.backoff import backoff_delay
from bot.bot_api import REPLY, retry_after_seconds
from bot.telegram.budget import Budget

log = logging.getLogger(__name__)

# Requests that put or change a message in a chat: these are what Telegram's limits count.
_MESSAGE_METHODS = ("send", "copy", "forward", "edit")
def is_message_method(endpoint: str) -> bool:
    return endpoint.startswith(_MESSAGE_METHODS) and endpoint != "sendChatAction"


class _Turns:
    """One send at a time takes its turn: lowest priority first, in arrival order within one."""

    def __init__(self) -> None:
        self._waiting: list[tuple[int, int, asyncio.Future]] = []
        self._seq = itertools.count()
        self._busy = False

    @contextlib.asynccontextmanager
    async def hold(self, priority: int) -> AsyncIterator[None]:
        if self._busy:
            future = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (priority, next(self._seq), future))
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._next()  # the turn was handed to us as we were cancelled: pass it on
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._next()

    def _next(self) -> None:
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # handed over: still busy
                return
        self._busy = False


class BudgetRateLimiter(BaseRateLimiter[dict]):
    """A PTB rate limiter backed by one `Budget`; give the same instance to every Bot."""

    def __init__(self, budget: Budget | None = None, *, retry_base: float = 1.0,
                 retry_cap: float = 10.0, give_up_after: float = 30.0) -> None:
        self.budget = budget or Budget()
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.give_up_after = give_up_after  # network retries of one reply, at most this long
        self._turns = _Turns()
        self._closed = asyncio.Event()
        self._replies_waiting: dict[int | str, int] = {}  # chat -> replies waiting their turn

    @property
    def closing(self) -> bool:
        return self._closed.is_set()

    async def initialize(self) -> None:
        self._closed.clear()

    async def shutdown(self) -> None:
        """Shared by several bots: stop retrying, so that stopping one is not held up."""
        self.close()

    def close(self) -> None:
        """The service stops: nothing waits or retries any more (a reply still waiting is
        dropped and logged; an outbox row stays queued)."""
        self._closed.set()

    async def _sleep(self, seconds: float, what: str) -> None:
        """Sleep, unless the service stops meanwhile: then NetworkError, nothing sent."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), seconds)
        if self._closed.is_set():
            log.info("stopping: %s not sent", what)
            raise NetworkError(f"the bot is stopping: {what} not sent")

    async def wait_turn(self, chat_id: int | str | None, priority: int = REPLY) -> None:
        """Sleep until the budget lets a message to `chat_id` go, then count it as started;
        NetworkError if the service stops first."""
        reply = priority == REPLY and chat_id is not None
        if reply:
            self._replies_waiting[chat_id] = self._replies_waiting.get(chat_id, 0) + 1
        try:
            await self._wait_turn(chat_id, priority)
        finally:
            if reply:
                left = self._replies_waiting.pop(chat_id) - 1
                if left:
                    self._replies_waiting[chat_id] = left

    async def _wait_turn(self, chat_id: int | str | None, priority: int) -> None:
        budget = self.budget
        what = f"message to {chat_id}"
        while True:
            delay = budget.chat_delay(chat_id) if chat_id is not None else 0.0
            if delay <= 0 and priority != REPLY and chat_id in self._replies_waiting:
                delay = 0.01  # a reply to this chat goes first
            if delay > 0 or self.closing:
                await self._sleep(delay, what)
                continue
            # Overall spacing is decided in turn: a task that wakes late must not let
            # the next ones catch up in a burst Telegram would count.
            async with self._turns.hold(priority):
                while (delay := budget.overall_delay()) > 0 or self.closing:
                    await self._sleep(delay, what)
                if chat_id is not None and budget.chat_delay(chat_id) > 0:
                    continue  # flood control arrived while we queued
                if priority != REPLY and chat_id in self._replies_waiting:
                    continue
                budget.start(chat_id)
                return

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict | list[dict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict | None,
    ) -> bool | dict | list[dict]:
        options = rate_limit_args or {}
        retry = options.get("retry", True)
        counted = is_message_method(endpoint)
        chat_id = data.get("chat_id") if counted else None
        started = options.get("on_start")
        first_failure: float | None = None
        attempt = 0
        while True:
            if counted:
                await self.wait_turn(chat_id, options.get("priority", REPLY))
            try:
                if started is not None:
                    started()
                try:
                    return await callback(*args, **kwargs)
                finally:
                    if counted:
                        self.budget.finish(chat_id)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                self.budget.retry_after(chat_id, seconds)
                log.warning("flood control on %s to %s: pausing %.2fs", endpoint, chat_id, seconds)
                if not retry or self.closing:
                    raise
                if not counted:  # counted requests wait for the pause in wait_turn
                    await self._sleep(seconds, endpoint)
            except BadRequest:
                raise  # a NetworkError to PTB, but sending it again cannot help
            except NetworkError as exc:
                now = time.monotonic()
                first_failure = first_failure or now
                if (not retry or not counted or self.closing
                        or now - first_failure > self.give_up_after):
                    raise  # only messages are retried: a lookup's caller decides itself
                delay = backoff_delay(attempt, self.retry_base, self.retry_cap)
                attempt += 1
                log.warning("%s to %s failed (%s); retrying in %.0fs", endpoint, chat_id,
                            exc.message, delay)
                await self._sleep(delay, f"{endpoint} to {chat_id}")
