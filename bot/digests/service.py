"""Writes each due digest and surge alert into the notice ledger and the outbox; the one
sender (bot/alerts/deliver.py) sends them.

Decide, write, then send: a digest is rendered and recorded (taking its
matches), its messages queued in the outbox, in one transaction, so a restart
neither loses nor repeats one (at most the messages in flight at a crash).
In a forum group, each forum thread its subscriptions go to gets its own digest
and the surge alerts of its topics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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
from bot.store.chats import chat_timezone

log = logging.getLogger(__name__)

Translate = Callable[[str, str, str, str], Awaitable[object]]  # Translator.translate_entry

SURGE_CHECK_EVERY = 60.0  # counting a window of matches per topic is a scan; once a minute


def _digest_entry(match: store.WaitingMatch) -> DigestEntry:
    return DigestEntry(
        topic=match.topic, topic_title=match.topic_title, story=match.story,
        entry_id=match.entry_id, title=match.title, language=match.language,
        outlet=match.outlet, matched_at=match.matched_at, link=match.link,
        published_at=match.published_at, story_id=match.story_id)


class NoticeService:
    def __init__(self, db, translate: Translate | None = None,
                 surges: SurgesConfig | None = None, default_timezone: str = "UTC",
                 clock: Callable[[], float] = time.time, interval: float = 5.0,
                 surge_check_every: float = SURGE_CHECK_EVERY,
                 on_queued: Callable[[], None] | None = None) -> None:
        """`on_queued` is called when messages were queued (the sender's `notify`)."""
        self.db = db
        self.on_queued = on_queued
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

    async def tick(self) -> int:
        """Write what is due now; notices written."""
        now = self.clock()
        written = await self.write_digests(now)
        checked = self._surges_checked_at
        if self.surges.enabled and (checked is None or now - checked >= self.surge_check_every
                                    or now < checked):
            self._surges_checked_at = now
            written += await self.write_surges(now)
        if written and self.on_queued is not None:
            self.on_queued()
        return written

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
            period = f"{end:.3f}"
            if await store.notice_exists(self.db, "digest", chat.chat_id, period):
                continue
            waiting = await store.waiting_matches(self.db, chat.chat_id, before=before)
            # One digest per forum thread the chat's topics go to (None: the chat itself).
            threads: dict[int | None, list[store.WaitingMatch]] = {}
            for match in waiting:
                threads.setdefault(match.thread_id, []).append(match)
            for thread_id, matches in threads.items():  # an empty period sends nothing
                key = period if thread_id is None else f"{period}#{thread_id}"
                if await store.notice_exists(self.db, "digest", chat.chat_id, key):
                    continue
                parts = await self._render(chat.language, zone, end, matches)
                if await store.write_notice(self.db, "digest", chat.chat_id, key, parts, now,
                                            [w.item_id for w in matches], thread_id=thread_id):
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
                if await store.write_notice(self.db, "surge", chat.chat_id, key, [text], now,
                                            thread_id=chat.thread_id):
                    written += 1
        return written
