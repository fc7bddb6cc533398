"""The one sender: every outbox row (alerts, story edits and replies, digest parts, surge
alerts, health reports, notices) goes out at Telegram's pace, chats round-robin and in
parallel, each chat in order, Telegram's answers read by one map (`senders._send_error`).

Every state change is written before its side effect: a row is 'sending'
before the send and 'sent' right after, so a crash repeats at most the
messages in flight, each once; a send that timed out (it may have arrived) is
sent again once at most, from the queue, never in place (see README.md).
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from bot.alerts.coverage import NothingToSend, Outgoing, compose, transmit
from bot.alerts.kept_writes import KeptWrites
from bot.alerts.quiet import is_quiet
from bot.alerts.render_stage import RenderStage
from bot.alerts.senders import (
    ChatGone,
    ChatMoved,
    ConsoleSender,
    EditImpossible,
    Sender,
    SendRejected,
    SendRetryAfter,
    SendTransient,
    SendUnsure,
    TelegramSender,
    ThreadGone,
)
from bot.backoff import backoff_delay
from bot.i18n import t
from bot.store import outbox
from bot.store.chats import deactivate_chat, migrate_chat, shown_timezone
from bot.store.db import Database
from bot.store.outbox import TEXT_KINDS, OutboxItem
from bot.store.stories import stop_editing
from bot.translation.stage import Translate, TranslateStage

__all__ = ["Deliverer", "DeliveryPolicy", "Sender", "TelegramSender", "ConsoleSender", "ChatGone",
           "ChatMoved",
           "SendRejected", "SendRetryAfter", "SendTransient"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How many alerts to hold and how to retry them. How fast they go is the Telegram
    budget's business (`bot.telegram.budget`), shared with every other message."""

    retry_base: float = 1.0  # transient failures back off 1, 2, 4, ... seconds
    retry_max: float = 300.0
    retries_in_place: int = 4  # then the row waits in the queue, its chat's later alerts too
    capacity: int = 600  # alerts claimed and held in memory at once
    per_chat_claim: int = 20
    poll_interval: float = 1.0  # look for rows due for retry this often
    max_in_flight: int = 64  # concurrent HTTP requests
    # At most this many rows wait per chat: older alerts fold into one "N more" notice
    # (at one message a second, a private chat's 500 take over 8 minutes to read).
    chat_backlog: int = 500
    fold_every: float = 10.0  # look for chats past `chat_backlog` this often
    stop_grace: float = 3.0  # at stop, sends in flight get this long, then stay queued

    def scaled(self, factor: float) -> DeliveryPolicy:
        """The same policy with every interval multiplied by `factor` (tests)."""
        return replace(self, retry_base=self.retry_base * factor,
                       retry_max=self.retry_max * factor,
                       poll_interval=min(self.poll_interval,
                                         max(0.02, self.poll_interval * factor)))


class Deliverer:
    """Claims due outbox rows, renders them in each chat's language and sends them.

    What happened is written to the outbox after each send; a write the database
    refuses (locked, full, read-only) is kept in memory and written again, in
    order, before anything else is claimed: a sent alert stays sent, a row
    never stays 'sending' for the rest of the run.
    """

    def __init__(self, db: Database, sender: Sender, translate: Translate | None = None,
                 policy: DeliveryPolicy | None = None, clock: Callable[[], float] = time.time,
                 console: bool = False, default_timezone: str = "UTC",
                 on_reuse: Callable[[str, str], None] | None = None, *,
                 render: RenderStage | None = None, default_language: str = "en") -> None:
        """`render` draws a row's alert (the translate and render stages); without it,
        one is built on `translate`."""
        self.db = db
        self.default_language = default_language  # notices to chats the bot has no row for
        self.console = console  # deliver the console's virtual chats instead of Telegram's
        self.sender = sender
        if render is None:
            if translate is None:
                raise TypeError("Deliverer needs render or translate")
            render = RenderStage(TranslateStage(translate, on_reuse), default_timezone)
        self.render = render
        self.policy = policy or DeliveryPolicy()
        self.clock = clock
        self.sent = 0
        self.count_429 = 0
        self.failures = 0
        self._wake = asyncio.Event()
        self._queues: dict[int, deque[OutboxItem]] = {}
        self._workers: dict[int, asyncio.Task] = {}
        self._sending: set[int] = set()  # chats whose current message has left
        self._in_flight = asyncio.Semaphore(self.policy.max_in_flight)
        self._kept = KeptWrites(self.policy.retry_base / 4, min(30.0, self.policy.retry_max),
                                on_kept=self._wake.set)
        self._stopping = False
        self._started = False
        self._after: int | None = None  # the last chat served: the next claim starts after it
        self._folded_at = float("-inf")
        self.folded = 0  # alerts folded into "N more" notices
        self._gone_threads: set[tuple[int, int]] = set()  # (chat, forum thread) deleted

    def notify(self) -> None:
        """New rows were recorded: look now instead of at the next poll."""
        self._wake.set()

    # ---- the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, then finish the sends in flight and release the rest."""
        self._stopping = False  # run again after a stop (the supervisor restarts it)
        try:
            while not await self._start():
                await self._wait(stop, self._kept.retry_delay())
                if stop.is_set():
                    return
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self._fill()
                except Exception as exc:  # a bad row or a locked database must not end delivery
                    log.error("claiming alerts failed (%r); retrying", exc)
                await self._wait(stop, self.policy.poll_interval)
        finally:
            await self.shutdown()

    async def drain(self, timeout: float = 30.0) -> None:
        """Deliver until no alert is queued (tests); TimeoutError if that takes too long."""
        async with asyncio.timeout(timeout):
            while not await self._start():
                await self._wait(None, self._kept.retry_delay())
            while True:
                self._wake.clear()
                await self._fill()
                if (not self._workers and not self._kept
                        and await outbox.queue_length(self.db) == 0):
                    return
                await self._wait(None, self.policy.poll_interval)

    async def shutdown(self, flush_for: float = 2.0) -> None:
        """Let sends in flight finish and be recorded (for `stop_grace` at most: a Bot API
        that does not answer must not hold the stop); claimed rows not yet sent go back.

        A send cut off here may have arrived: its row goes back marked unsure, so the
        next start sends it again once at most, as after a crash or a timeout."""
        self._stopping = True
        for chat_id, task in list(self._workers.items()):
            if chat_id not in self._sending:
                task.cancel()
        workers = list(self._workers.values())
        cut: list[OutboxItem] = []  # sends cut off unanswered: they may have arrived
        if workers:
            _, late = await asyncio.wait(workers, timeout=self.policy.stop_grace)
            cut = [self._queues[chat][0] for chat in self._sending if self._queues.get(chat)]
            for task in late:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        cut_ids = {item.id for item in cut}
        leftover = [item.id for queue in self._queues.values() for item in queue
                    if item.id not in cut_ids]
        self._queues.clear()
        if leftover:
            await self._kept.write("release of unsent alerts",
                                   partial(outbox.release, self.db, leftover))
        for item in cut:  # sent again at the next start, once at most, as after a timeout
            await self._kept.write(f"{item.kind} {item.id} cut off",
                                   partial(outbox.mark_retry, self.db, item.id,
                                           "cut off by the stop: may have arrived",
                                           self.clock(), unsure=True))
        await self._kept.flush(flush_for)

    async def _start(self) -> bool:
        """Rows a crashed run left 'sending' go back to the queue, once; False if the
        database refused (then try again later)."""
        if self._started:
            return True
        try:
            requeued = await outbox.requeue_inflight(self.db)
        except Exception as exc:
            self._kept.failures += 1
            log.error("cannot requeue the alerts left in flight (%r); retrying", exc)
            return False
        self._kept.failures = 0
        self._started = True
        if requeued:
            log.info("requeued %d alerts left in flight by the last run", requeued)
        return True

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
        if not await self._kept.rewrite():
            return  # the database still refuses: claim nothing until it takes what happened
        now = self.clock()
        if not now - self._folded_at < self.policy.fold_every:
            self._folded_at = now
            for fold in await outbox.fold_backlogs(self.db, self.policy.chat_backlog, now):
                self.folded += fold.count
                log.warning("chat %s had more than %d messages waiting: %d alerts of %s "
                            "folded into one notice", fold.chat_id, self.policy.chat_backlog,
                            fold.count, fold.topic)
        held = sum(len(q) for q in self._queues.values())
        room = self.policy.capacity - held
        if room < max(1, self.policy.capacity // 4) and held:
            return  # claim in batches, not one row per finished send
        items = await outbox.claim_due(self.db, now, room,
                                       per_chat=self.policy.per_chat_claim,
                                       skip_chats=list(self._queues),
                                       console=self.console, after=self._after)
        if items:
            self._after = max(item.chat_id for item in items)
        for item in items:
            queue = self._queues.setdefault(item.chat_id, deque())
            queue.append(item)
            if item.chat_id not in self._workers:
                self._workers[item.chat_id] = asyncio.create_task(
                    self._work(item.chat_id), name=f"deliver-{item.chat_id}")

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
                    await self._release(chat_id, queue)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery to chat %s failed unexpectedly", chat_id)
            await self._release(chat_id, queue)
        finally:
            if not self._stopping:
                self._queues.pop(chat_id, None)
            self._workers.pop(chat_id, None)
            self._wake.set()

    async def _release(self, chat_id: int, queue: deque[OutboxItem]) -> None:
        rest = [item.id for item in queue]
        queue.clear()
        if rest:
            await self._kept.write(f"release of alerts {rest[0]}..{rest[-1]}",
                                   partial(outbox.release, self.db, rest))

    async def _compose(self, item: OutboxItem, editable: bool = True) -> Outgoing | None:
        """The message to send for `item`, drawn now; None once the row is marked dead."""
        try:
            if item.kind in TEXT_KINDS:
                return Outgoing(self._text(item))
            return await compose(self.db, item, self.render, self._timezone(item),
                                 editable=editable)
        except NothingToSend as exc:
            reason = str(exc)
        except Exception as exc:  # a rendering bug must not block the queue
            log.exception("rendering alert %s failed", item.id)
            reason = f"render failed: {exc!r}"
        await self._kept.write(f"alert {item.id} dead",
                               partial(outbox.mark_dead, self.db, item.id, reason))
        return None

    async def _deliver(self, item: OutboxItem) -> str:
        if (item.chat_id, item.thread_id) in self._gone_threads:  # claimed before we knew
            item = replace(item, thread_id=None)
        out = await self._compose(item)
        if out is None:
            return "dead"
        attempt = 0
        while True:
            if self._stopping:
                return "stopped"
            backoff = 0.0
            try:
                async with self._in_flight:
                    message_id = await transmit(
                        self.sender, item, out, partial(self._sending.add, item.chat_id),
                        quiet=is_quiet(item.chat_quiet, self._timezone(item), self.clock()))
            except EditImpossible as exc:
                # Deleted, too old or too long: from now on a reply carries the coverage.
                log.info("story message in chat %s cannot be edited (%s): replying",
                         item.chat_id, exc.reason)
                await self._kept.write(f"story {item.story_id} not editable",
                                       partial(stop_editing, self.db, item.story_id, item.chat_id))
                out = await self._compose(item, editable=False)
                if out is None:
                    return "dead"
                continue
            except SendRetryAfter:
                self.count_429 += 1  # the budget pauses everyone; the next send waits for it
                continue
            except ThreadGone as exc:
                # General from now on, and the group is told once (a notice row).
                log.info("forum thread %s of chat %s is gone (%s): General instead",
                         item.thread_id, item.chat_id, exc.reason)
                if item.thread_id is not None:
                    self._gone_threads.add((item.chat_id, item.thread_id))
                    await self._kept.write(f"thread {item.thread_id} of chat {item.chat_id} gone",
                                           partial(outbox.thread_gone, self.db, item.chat_id,
                                                   item.thread_id, self.clock()))
                    self.notify()
                if item.thread_id is None and out.thread_id is None:
                    return await self._dead(item, exc.reason)
                item, out = replace(item, thread_id=None), replace(out, thread_id=None)
                continue
            except ChatMoved as exc:
                log.info("chat %s became %s: its alerts follow", item.chat_id, exc.new_chat_id)
                await self._kept.write(f"chat {item.chat_id} moved",
                                       partial(migrate_chat, self.db, item.chat_id, exc.new_chat_id))
                self.notify()
                return "gone"  # the rest of its queue now waits under the new id
            except ChatGone as exc:
                self.failures += 1
                log.info("chat %s is gone (%s): deactivated", item.chat_id, exc.reason)
                await self._kept.write(f"chat {item.chat_id} deactivated",
                                       partial(deactivate_chat, self.db, item.chat_id,
                                               exc.reason))
                return "gone"
            except SendRejected as exc:
                self.failures += 1
                log.warning("%s %s to chat %s refused: %s", item.kind, item.id, item.chat_id,
                            exc.reason)
                return await self._dead(item, exc.reason)
            except SendUnsure as exc:
                # It may have arrived: sent again once at most, from the queue, never here.
                self.failures += 1
                if item.unsure:
                    log.error("%s %s to chat %s timed out again (%s): it may have arrived, "
                              "not sent a third time", item.kind, item.id, item.chat_id,
                              exc.reason)
                    return await self._dead(item, f"timed out twice, may have arrived: "
                                                  f"{exc.reason}")
                delay = backoff_delay(item.attempts - 1, self.policy.retry_base,
                                      self.policy.retry_max)
                log.warning("%s %s to chat %s timed out (%s): may have arrived; sent again "
                            "once in %.0fs", item.kind, item.id, item.chat_id, exc.reason, delay)
                await self._kept.write(f"alert {item.id} retry",
                                       partial(outbox.mark_retry, self.db, item.id, exc.reason,
                                               self.clock() + delay, unsure=True))
                return "deferred"
            except SendTransient as exc:
                attempt += 1
                delay = backoff_delay(item.attempts + attempt - 1, self.policy.retry_base,
                                      self.policy.retry_max)
                if attempt > self.policy.retries_in_place:
                    log.warning("alert %s to chat %s: %s; retrying in %.0fs",
                                item.id, item.chat_id, exc.reason, delay)
                    await self._kept.write(f"alert {item.id} retry",
                                           partial(outbox.mark_retry, self.db, item.id,
                                                   exc.reason, self.clock() + delay))
                    return "deferred"
                backoff = delay
            else:
                # Telegram has it: whatever happens to this write, it is never sent again.
                self.sent += 1
                await self._kept.write(f"alert {item.id} sent",
                                       partial(outbox.mark_sent, self.db, item.id, message_id,
                                               self.clock()))
                return "sent"
            finally:
                self._sending.discard(item.chat_id)
            if backoff:  # outside _sending: shutdown may cancel this wait
                await asyncio.sleep(backoff)

    async def _dead(self, item: OutboxItem, reason: str) -> str:
        await self._kept.write(f"{item.kind} {item.id} dead",
                               partial(outbox.mark_dead, self.db, item.id, reason))
        return "dead"

    def _timezone(self, item: OutboxItem) -> str:
        return shown_timezone(item.chat_timezone, self.render.default_timezone)

    def _text(self, item: OutboxItem) -> str:
        """A digest part, surge alert or health report as decided; a notice drawn from the
        catalog in the chat's language."""
        if item.notice is None:
            return item.body or ""
        values = {name: html.escape(value) if isinstance(value, str) else value
                  for name, value in item.notice.get("values", {}).items()}
        return t(item.chat_language or self.default_language, item.notice["key"], **values)
