"""Writes each due digest and surge alert into the notice ledger, then sends the ledger.

Decide, write, then send: a digest is rendered and recorded (taking its
matches) in one transaction before its first message goes out, and each sent
message is recorded before the next, so a restart neither loses nor repeats
one (at most the message in flight at a crash).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.alerts.senders import ChatGone, ChatMoved, SendError, SendRejected, SendRetryAfter
from bot.backoff import backoff_delay
from bot.config import SurgesConfig
from bot.digests.render import (
    STORIES_SHOWN,
    SURGE_STORIES,
    DigestEntry,
    DigestStory,
    SurgeStory,
    group_digest,
    render_digest,
    render_surge,
)
from bot.digests.schedule import BadDigestMode, last_end, parse_mode
from bot.digests.surges import HISTORY, TopicCounts, detect_surge
from bot.locale_format import zone_or_utc
from bot.shown_time import format_time
from bot.store import digests as store
from bot.store.chats import chat_timezone, deactivate_chat, migrate_chat

log = logging.getLogger(__name__)

Send = Callable[[int, str], Awaitable[int]]  # (chat id, HTML) -> message id; raises SendError
Translate = Callable[[str, str, str, str], Awaitable[object]]  # Translator.translate_entry

RETRY_BASE = 2.0
RETRY_MAX = 600.0
SURGE_CHECK_EVERY = 60.0  # counting a window of matches per topic is a scan; once a minute


def _digest_entry(match: store.WaitingMatch) -> DigestEntry:
    return DigestEntry(
        topic=match.topic, topic_title=match.topic_title, story=match.story,
        entry_id=match.entry_id, title=match.title, language=match.language,
        outlet=match.outlet, matched_at=match.matched_at, link=match.link,
        published_at=match.published_at, story_id=match.story_id)


class NoticeService:
    def __init__(self, db, send: Send, translate: Translate | None = None,
                 surges: SurgesConfig | None = None, default_timezone: str = "UTC",
                 clock: Callable[[], float] = time.time, interval: float = 5.0,
                 surge_check_every: float = SURGE_CHECK_EVERY) -> None:
        self.db = db
        self.send = send
        self.translate = translate
        self.surges = surges or SurgesConfig()
        self.default_timezone = default_timezone
        self.clock = clock
        self.interval = interval
        self.surge_check_every = surge_check_every
        self._surges_checked_at: float | None = None
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """A chat changed its digest mode: look now instead of at the next tick."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.tick()
            except Exception:  # a bad row or a locked database must not end the loop
                log.exception("digests and surge alerts failed; retrying")
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=self.interval,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()

    async def tick(self) -> None:
        now = self.clock()
        await self.write_digests(now)
        checked = self._surges_checked_at
        if self.surges.enabled and (checked is None or now - checked >= self.surge_check_every
                                    or now < checked):
            self._surges_checked_at = now
            await self.write_surges(now)
        await self.send_due()

    # ---- digests

    async def write_digests(self, now: float) -> int:
        """Record the digest of every period that ended with matches waiting; digests written."""
        written = 0
        for chat in await store.digest_chats(self.db):
            zone = zone_or_utc(await chat_timezone(self.db, chat.chat_id, self.default_timezone))
            if chat.digest == "off":  # back to instant alerts: what waited goes out now
                end, before = now, float("inf")
            else:
                try:
                    mode = parse_mode(chat.digest.split())
                except BadDigestMode:
                    log.error("chat %s has an unreadable digest mode %r", chat.chat_id,
                              chat.digest)
                    continue
                end = last_end(mode, zone, datetime.fromtimestamp(now, UTC)).timestamp()
                before = end
            key = f"{end:.3f}"
            if await store.notice_exists(self.db, "digest", chat.chat_id, key):
                continue
            waiting = await store.waiting_matches(self.db, chat.chat_id, before=before)
            if not waiting:
                continue  # an empty period sends nothing
            parts = await self._render(chat.language, zone, end, waiting)
            if await store.write_notice(self.db, "digest", chat.chat_id, key, parts, now,
                                        [w.item_id for w in waiting]):
                written += 1
        return written

    async def _render(self, language: str, zone: ZoneInfo, end: float,
                      waiting: list[store.WaitingMatch]) -> list[str]:
        topics = group_digest(_digest_entry(w) for w in waiting)
        titles = {}
        for topic in topics:
            for story in topic.stories[:STORIES_SHOWN]:
                titles[story.story] = await self._title_in(story, language)
        period = format_time(datetime.fromtimestamp(end, UTC), zone.key, language)
        return render_digest(language, period, topics, titles)

    async def _title_in(self, story: DigestStory, language: str) -> str:
        if story.title_language == language or self.translate is None:
            return story.title
        return await self._translated_title(story.title, story.title_language, language)

    async def _translated_title(self, title: str, source: str, target: str) -> str:
        try:
            result = await self.translate(title, "", source, target)
        except Exception as exc:  # the translator promises not to raise; keep the original
            log.warning("translating a digest title failed: %r", exc)
            return title
        return getattr(result, "title", None) or title

    # ---- surges

    async def write_surges(self, now: float) -> int:
        """Record a surge alert for each surging topic and chat that has none today."""
        rule = self.surges
        written = 0
        for topic_id, name, entries, languages, before in await store.topic_counts(
                self.db, now - rule.window, now + 1e-6, HISTORY, rule.min_entries):
            surge = detect_surge(TopicCounts(name, entries, languages, before), rule)
            if surge is None:
                continue
            window = await store.topic_window(self.db, topic_id, now - rule.window, now + 1e-6)
            [grouped] = group_digest(_digest_entry(w) for w in window) or [None]
            largest = grouped.stories[:SURGE_STORIES] if grouped else ()
            shown: dict[str, list[SurgeStory]] = {}
            for chat in await store.surge_chats(self.db, topic_id):
                zone = zone_or_utc(await chat_timezone(self.db, chat.chat_id,
                                                   self.default_timezone))
                day = datetime.fromtimestamp(now, zone).date().isoformat()
                key = f"{topic_id}:{day}"
                if await store.notice_exists(self.db, "surge", chat.chat_id, key):
                    continue
                if chat.language not in shown:
                    shown[chat.language] = [
                        SurgeStory(await self._title_in(story, chat.language), story.link,
                                   story.story_id, story.entries) for story in largest]
                text = render_surge(chat.language, chat.topic_title, surge.entries,
                                    rule.window, surge.languages, surge.ratio,
                                    shown[chat.language])
                if await store.write_notice(self.db, "surge", chat.chat_id, key, [text], now):
                    written += 1
        return written

    # ---- sending

    async def send_due(self) -> int:
        """Send every due notice's remaining messages; messages sent."""
        sent = 0
        paused: set[int] = set()
        for notice in await store.due_notices(self.db, self.clock()):
            if notice.chat_id in paused:
                continue  # keep a chat's notices in order behind one that must wait
            done, count = await self._send_notice(notice)
            sent += count
            if not done:
                paused.add(notice.chat_id)
        return sent

    async def _send_notice(self, notice: store.Notice) -> tuple[bool, int]:
        count = 0
        for index in range(notice.parts_sent, len(notice.parts)):
            try:
                await self.send(notice.chat_id, notice.parts[index])
            except SendRetryAfter as exc:
                await store.mark_notice_retry(self.db, notice.id, exc.reason,
                                              self.clock() + exc.seconds)
                return False, count
            except ChatMoved as exc:  # the notice follows the chat; sent on the next round
                await migrate_chat(self.db, notice.chat_id, exc.new_chat_id)
                return False, count
            except ChatGone as exc:
                log.info("chat %s is gone (%s): deactivated", notice.chat_id, exc.reason)
                await deactivate_chat(self.db, notice.chat_id, exc.reason)
                await store.mark_notice_dead(self.db, notice.id, exc.reason)
                return False, count
            except SendRejected as exc:
                log.warning("%s %s to chat %s refused: %s", notice.kind, notice.id,
                            notice.chat_id, exc.reason)
                await store.mark_notice_dead(self.db, notice.id, exc.reason)
                return False, count
            except SendError as exc:  # transient: the ledger keeps it for later
                delay = backoff_delay(notice.attempts, RETRY_BASE, RETRY_MAX)
                await store.mark_notice_retry(self.db, notice.id, exc.reason,
                                              self.clock() + delay)
                return False, count
            count += 1
            await store.mark_part_sent(self.db, notice.id, index + 1,
                                       index + 1 == len(notice.parts), self.clock())
        return True, count

