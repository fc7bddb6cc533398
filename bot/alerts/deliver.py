"""Sends queued alerts at Telegram's pace: oldest first, chats in parallel, each chat in order.

Every state change is written before its side effect: a row is 'sending'
before the send and 'sent' right after, so a crash repeats at most the one
message in flight (see outbox.requeue_inflight).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.alerts import outbox
from bot.alerts.outbox import OutboxItem
from bot.alerts.render import SUMMARY_LENGTH, clean, render_alert, shorten, view_from
from bot.alerts.senders import (
    ChatGone,
    ChatMoved,
    ConsoleSender,
    Sender,
    SendRejected,
    SendRetryAfter,
    SendTransient,
    TelegramSender,
)
from bot.store.chats import migrate_chat
from bot.store.db import Database

__all__ = ["Deliverer", "Pacing", "Sender", "TelegramSender", "ConsoleSender", "ChatGone",
           "ChatMoved",
           "SendRejected", "SendRetryAfter", "SendTransient"]

log = logging.getLogger(__name__)


class TranslationLike(Protocol):
    title: str
    summary: str
    translated: bool
    note: str | None


Translate = Callable[[str, str, str, str], Awaitable[TranslationLike]]


@dataclass(frozen=True)
class Pacing:
    """How fast to send. The defaults keep just under Telegram's limits."""

    per_second: float = 29.0  # overall; Telegram allows about 30
    per_window: int = 30  # sends in flight or answered within the last `window`, at most
    window: float = 1.0
    chat_interval: float = 1.0  # private chats: one a second
    group_interval: float = 3.05  # groups and channels: 20 a minute
    retry_base: float = 1.0  # transient failures back off 1, 2, 4, ... seconds
    retry_max: float = 300.0
    retries_in_place: int = 4  # then the row waits in the queue, its chat's later alerts too
    capacity: int = 600  # alerts claimed and held in memory at once
    per_chat_claim: int = 20
    poll_interval: float = 1.0  # look for rows due for retry this often
    max_in_flight: int = 64  # concurrent HTTP requests

    @classmethod
    def console(cls) -> Pacing:
        """No one to flood: print as fast as alerts come."""
        return cls(per_second=1000.0, chat_interval=0.0, group_interval=0.0)

    def scaled(self, factor: float) -> Pacing:
        """The same limits with every interval multiplied by `factor` (tests)."""
        return Pacing(per_second=self.per_second / factor,
                      per_window=self.per_window, window=self.window * factor,
                      chat_interval=self.chat_interval * factor,
                      group_interval=self.group_interval * factor,
                      retry_base=self.retry_base * factor, retry_max=self.retry_max * factor,
                      retries_in_place=self.retries_in_place, capacity=self.capacity,
                      per_chat_claim=self.per_chat_claim,
                      poll_interval=min(self.poll_interval, max(0.02, self.poll_interval * factor)),
                      max_in_flight=self.max_in_flight)


def _is_group(item: OutboxItem) -> bool:
    return item.chat_type in ("group", "supergroup", "channel") or item.chat_id < 0


class Deliverer:
    """Claims due outbox rows, renders them in each chat's language and sends them."""

    def __init__(self, db: Database, sender: Sender, translate: Translate,
                 pacing: Pacing | None = None, clock: Callable[[], float] = time.time,
                 console: bool = False) -> None:
        self.db = db
        self.console = console  # deliver the console's virtual chats instead of Telegram's
        self.sender = sender
        self.translate = translate
        self.pacing = pacing or Pacing()
        self.clock = clock
        self.sent = 0
        self.count_429 = 0
        self.failures = 0
        self._wake = asyncio.Event()
        self._queues: dict[int, deque[OutboxItem]] = {}
        self._workers: dict[int, asyncio.Task] = {}
        self._sending: set[int] = set()
        self._chat_ready: dict[int, float] = {}  # monotonic time a chat may get its next message
        self._last_send = 0.0  # monotonic time of the latest send, for the overall pace
        self._gate = asyncio.Lock()
        self._in_flight_count = 0
        self._answered: deque[float] = deque()  # answer times of the last second's sends
        self._paused_until = 0.0  # flood control for everyone
        self._in_flight = asyncio.Semaphore(self.pacing.max_in_flight)
        self._translations: OrderedDict[tuple, asyncio.Task] = OrderedDict()
        self._stopping = False
        self._started = False

    def notify(self) -> None:
        """New rows were recorded: look now instead of at the next poll."""
        self._wake.set()

    # ---- the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, then finish the sends in flight and release the rest."""
        await self._start()
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self._fill()
                except Exception:  # a bad row or a locked database must not end delivery
                    log.exception("claiming alerts failed; retrying")
                await self._wait(stop, self.pacing.poll_interval)
        finally:
            await self.shutdown()

    async def drain(self, timeout: float = 30.0) -> None:
        """Deliver until no alert is queued (tests); TimeoutError if that takes too long."""
        await self._start()
        async with asyncio.timeout(timeout):
            while True:
                self._wake.clear()
                await self._fill()
                if not self._workers and await outbox.queue_length(self.db) == 0:
                    return
                await self._wait(None, self.pacing.poll_interval)

    async def shutdown(self) -> None:
        """Let sends in flight finish and be recorded; claimed rows not yet sent go back."""
        self._stopping = True
        for chat_id, task in list(self._workers.items()):
            if chat_id not in self._sending:
                task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        leftover = [item.id for queue in self._queues.values() for item in queue]
        self._queues.clear()
        await outbox.release(self.db, leftover)

    async def _start(self) -> None:
        if not self._started:
            self._started = True
            requeued = await outbox.requeue_inflight(self.db)
            if requeued:
                log.info("requeued %d alerts left in flight by the last run", requeued)

    async def _wait(self, stop: asyncio.Event | None, timeout: float) -> None:
        waits = [asyncio.ensure_future(self._wake.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _fill(self) -> None:
        held = sum(len(q) for q in self._queues.values())
        room = self.pacing.capacity - held
        if room < max(1, self.pacing.capacity // 4) and held:
            return  # claim in batches, not one row per finished send
        items = await outbox.claim_due(self.db, self.clock(), room,
                                       per_chat=self.pacing.per_chat_claim,
                                       skip_chats=list(self._queues),
                                       console=self.console)
        for item in items:
            queue = self._queues.setdefault(item.chat_id, deque())
            queue.append(item)
            if item.chat_id not in self._workers:
                self._workers[item.chat_id] = asyncio.create_task(
                    self._work(item.chat_id), name=f"deliver-{item.chat_id}")
        self._forget_idle_chats()

    def _forget_idle_chats(self) -> None:
        if len(self._chat_ready) > 4 * self.pacing.capacity:
            now = time.monotonic()
            self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}

    # ---- one chat

    async def _work(self, chat_id: int) -> None:
        """Send this chat's claimed alerts one after another, so they arrive in order."""
        queue = self._queues[chat_id]
        try:
            while queue and not self._stopping:
                outcome = await self._deliver(queue[0])
                if outcome == "stopped":
                    break  # shutdown() releases it with the rest
                queue.popleft()
                if outcome == "gone":
                    queue.clear()  # dead (deactivated) or moved to a new id, in the database
                elif outcome == "deferred":
                    # keep the chat's order: its later alerts wait with the failed one
                    rest = [item.id for item in queue]
                    queue.clear()
                    await outbox.release(self.db, rest)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery to chat %s failed unexpectedly", chat_id)
            rest = [item.id for item in queue]
            queue.clear()
            await outbox.release(self.db, rest)
        finally:
            if not self._stopping:
                self._queues.pop(chat_id, None)
            self._workers.pop(chat_id, None)
            self._wake.set()

    async def _deliver(self, item: OutboxItem) -> str:
        try:
            html = await self._render(item)
        except Exception as exc:  # a rendering bug must not block the queue
            log.exception("rendering alert %s failed", item.id)
            await outbox.mark_dead(self.db, item.id, f"render failed: {exc!r}")
            return "dead"
        attempt = 0
        while True:
            if self._stopping:
                return "stopped"
            await self._wait_turn(item)
            backoff = 0.0
            self._sending.add(item.chat_id)
            try:
                async with self._in_flight:
                    message_id = await self.sender.send(item.chat_id, item.thread_id, html)
                await outbox.mark_sent(self.db, item.id, message_id, self.clock())
                self.sent += 1
                return "sent"
            except SendRetryAfter as exc:
                self.count_429 += 1
                # Telegram does not say whether the limit hit was this chat's or the
                # bot's, so everyone waits: one pause costs less than a 429 cascade.
                until = time.monotonic() + exc.seconds
                self._paused_until = max(self._paused_until, until)
                self._chat_ready[item.chat_id] = max(self._chat_ready.get(item.chat_id, 0), until)
                log.warning("flood control on chat %s: pausing %.2fs", item.chat_id, exc.seconds)
            except ChatMoved as exc:
                log.info("chat %s became %s: its alerts follow", item.chat_id, exc.new_chat_id)
                await migrate_chat(self.db, item.chat_id, exc.new_chat_id)
                self.notify()
                return "gone"  # the rest of its queue now waits under the new id
            except ChatGone as exc:
                self.failures += 1
                log.info("chat %s is gone (%s): deactivated", item.chat_id, exc.reason)
                await outbox.deactivate_chat(self.db, item.chat_id, exc.reason)
                return "gone"
            except SendRejected as exc:
                self.failures += 1
                log.warning("alert %s to chat %s refused: %s", item.id, item.chat_id, exc.reason)
                await outbox.mark_dead(self.db, item.id, exc.reason)
                return "dead"
            except SendTransient as exc:
                attempt += 1
                delay = self._backoff(item.attempts + attempt - 1)
                if attempt > self.pacing.retries_in_place:
                    log.warning("alert %s to chat %s: %s; retrying in %.0fs",
                                item.id, item.chat_id, exc.reason, delay)
                    await outbox.mark_retry(self.db, item.id, exc.reason, self.clock() + delay)
                    return "deferred"
                backoff = delay
            finally:
                self._in_flight_count -= 1
                self._answered.append(time.monotonic())
                self._sending.discard(item.chat_id)
                # Count the chat's interval from the answer too: the next request then
                # reaches Telegram at least an interval after this one, whatever the latency.
                self._chat_ready[item.chat_id] = max(self._chat_ready.get(item.chat_id, 0.0),
                                                     time.monotonic() + self._interval(item))
            if backoff:  # outside _sending: shutdown may cancel this wait
                await asyncio.sleep(backoff)

    def _backoff(self, attempt: int) -> float:
        return min(self.pacing.retry_max, self.pacing.retry_base * 2 ** max(0, attempt))

    async def _wait_window(self) -> None:
        """Wait while a full second's quota is in flight or answered within the last second.

        Telegram counts when requests arrive, which is somewhere between our send
        and its answer; counting unanswered sends and answers of the last second
        keeps any one second of arrivals within the limit, whatever the latency.
        """
        window, limit = self.pacing.window, self.pacing.per_window
        while True:
            now = time.monotonic()
            while self._answered and self._answered[0] <= now - window:
                self._answered.popleft()
            if self._in_flight_count + len(self._answered) < limit:
                return
            oldest = self._answered[0] + window if self._answered else now + 0.005
            await asyncio.sleep(max(0.001, oldest - now))

    def _interval(self, item: OutboxItem) -> float:
        return self.pacing.group_interval if _is_group(item) else self.pacing.chat_interval

    async def _wait_turn(self, item: OutboxItem) -> None:
        """Sleep until this chat may get a message and the overall pace allows one, then go."""
        while True:
            now = time.monotonic()
            ready = max(self._chat_ready.get(item.chat_id, 0.0), self._paused_until)
            if ready > now:
                await asyncio.sleep(ready - now)
                continue
            # One gate, in arrival order, spacing actual sends: a task that wakes late
            # must not let the next ones catch up in a burst Telegram would count.
            async with self._gate:
                due = self._last_send + 1.0 / self.pacing.per_second
                if due > time.monotonic():
                    await asyncio.sleep(due - time.monotonic())
                await self._wait_window()
                now = time.monotonic()
                if self._paused_until > now or self._chat_ready.get(item.chat_id, 0.0) > now:
                    continue  # flood control arrived while we queued
                self._in_flight_count += 1
                # Sleep overshoots by a millisecond or so; count from the planned time so
                # that does not add up, but never catch up by more than a few milliseconds.
                self._last_send = max(due, now - 0.005)
            self._chat_ready[item.chat_id] = now + self._interval(item)
            return

    # ---- rendering

    async def _render(self, item: OutboxItem) -> str:
        source, target = item.entry_language, item.chat_language
        title, summary, original, failed = item.title, item.summary, "", False
        if source != target:
            translation = await self._translation(item, source, target)
            if translation is not None and translation.translated:
                title, summary, original = translation.title, translation.summary, item.title
            else:
                # No note when translation is switched off (provider none): nothing failed.
                failed = translation is None or translation.note is not None
        view = view_from(topic_title=item.topic_title, outlet=item.feed_name,
                         source_language=source, target_language=target, title=title,
                         original_title=original, summary=summary, link=item.link,
                         terms=item.terms, translation_failed=failed)
        return render_alert(view)

    async def _translation(self, item: OutboxItem, source: str,
                           target: str) -> TranslationLike | None:
        """One translation per (entry, language), shared by every chat that needs it."""
        key = (item.entry_id, source, target)
        task = self._translations.get(key)
        if task is None:
            summary = shorten(clean(item.summary), 2 * SUMMARY_LENGTH)
            task = asyncio.ensure_future(self.translate(item.title, summary, source, target))
            self._translations[key] = task
            while len(self._translations) > 256:
                self._translations.popitem(last=False)
        try:
            result = await asyncio.shield(task)
        except Exception as exc:  # the translator promises not to raise; never lose the alert
            log.warning("translating entry %s failed: %r", item.entry_id, exc)
            self._translations.pop(key, None)
            return None
        if not result.translated:
            self._translations.pop(key, None)  # try again for the next chat
        return result
