"""The cluster stage: a matched entry joins the open story it is most like, or starts one.

Entries are compared through their English pivot translation. The entry's
matches, its story and every chat's message, edit or reply (the outbox work:
the queue stage) are written in one transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from bot.message_text import SUMMARY_LENGTH, clean, shorten
from bot.model import Entry, StoredEntry
from bot.store.db import Database
from bot.store.stories import RecordedEntry, open_stories, record_entry
from bot.stories.cluster import OpenStories
from bot.stories.similarity import PIVOT, StorySignature, story_signature
from bot.translation.stage import Translate

log = logging.getLogger(__name__)


class ClusterStage:
    """Places each matched entry in a story, holding the open stories in memory."""

    def __init__(self, db: Database, window: float, translate: Translate | None = None,
                 stories: OpenStories | None = None) -> None:
        self.db = db
        self.window = window
        self.translate = translate  # None: no pivot translations (translation off)
        self.stories = stories or OpenStories()
        self._lock = asyncio.Lock()  # one placement at a time: two feeds, one story

    @classmethod
    async def load(cls, db: Database, window: float, translate: Translate | None = None,
                   now: float | None = None) -> ClusterStage:
        """The stories still open, rebuilt from their stored signatures."""
        stage = cls(db, window, translate)
        now = time.time() if now is None else now
        for story_id, signature, joined_at in await open_stories(db, now - window):
            try:
                stage.stories.join(story_id, StorySignature.from_dict(json.loads(signature)),
                                   joined_at)
            except (ValueError, KeyError, TypeError):
                log.warning("story %s: a stored signature is unreadable; left out", story_id)
        return stage

    async def signature(self, entry: Entry) -> StorySignature:
        """The entry's signature, with its English pivot when it is in another language
        (one translation call, shared through the cache with English-reading chats)."""
        pivot_title = pivot_summary = None
        if entry.language != PIVOT and self.translate is not None:
            summary = shorten(clean(entry.summary), 2 * SUMMARY_LENGTH)
            try:
                pivot = await self.translate(entry.title, summary, entry.language, PIVOT)
            except Exception as exc:  # the translator promises not to raise; cluster anyway
                log.warning("pivot translation failed: %r", exc)
                pivot = None
            if pivot is not None and pivot.translated:
                pivot_title, pivot_summary = pivot.title, pivot.summary
        # Off the loop: a long summary takes a while to tokenise, and a backlog has many.
        return await asyncio.to_thread(story_signature, entry.title, entry.summary,
                                       entry.language, entry.link, pivot_title, pivot_summary)

    async def place(self, stored: StoredEntry, matches: list[tuple[str, tuple[str, ...]]],
                    now: float, signature: StorySignature | None = None) -> RecordedEntry:
        """Join the entry to its story (or start one) with its matches and outbox work."""
        if signature is None:
            signature = await self.signature(stored.entry)
        if not signature.source:  # its feed's habits (boilerplate) are learnt and discounted
            signature = signature.with_source(stored.feed_id)
        async with self._lock:
            self.stories.expire(now, self.window)
            # Comparing with every open story is CPU work: a thread, so the loop stays free
            # (the lock keeps the stories still meanwhile).
            best = await asyncio.to_thread(self.stories.best_story, signature, now, self.window)
            recorded = await record_entry(
                self.db, stored.id, stored.entry.alert_key, matches, now, story_id=best,
                signature=json.dumps(signature.to_dict(), ensure_ascii=False))
            if recorded.placed:
                if recorded.story_id in self.stories:
                    self.stories.join(recorded.story_id, signature, now)
                else:
                    self.stories.add(recorded.story_id, signature, now)
        return recorded
