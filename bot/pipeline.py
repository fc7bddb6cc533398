"""The match and cluster stages: new entries -> topic matches -> a story each -> outbox work.

An entry that matched joins the open story it is most like (compared through
its English pivot translation) or starts one; its matches, its story and every
chat's message, edit or reply are written in one transaction.

It owns the live TopicIndex. Admin edits swap in a new index built by
copy-on-write (`with_topic` / `without_topic`), so a batch being matched keeps a
consistent view and an edit costs milliseconds however many topics there are.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.alerts.render import SUMMARY_LENGTH, clean, shorten
from bot.matching.index import (
    EMPTY_INDEX,
    TopicIndex,
    TopicQuery,
    TopicQueryError,
    compile_topics,
    validate_topics,
)
from bot.model import Entry, Feed, StoredEntry, Topic
from bot.store.db import Database
from bot.store.entries import mark_matched, pending_entries
from bot.store.stories import RecordedEntry, open_stories, record_entry
from bot.store.topics import list_topics
from bot.stories.cluster import OpenStories
from bot.stories.similarity import PIVOT, StorySignature, story_signature

log = logging.getLogger(__name__)


def _queries(topics: list[Topic]) -> list[TopicQuery]:
    return [TopicQuery(t.name, language, query)
            for t in topics for language, query in t.queries.items()]


def compile_stored_topics(topics: list[Topic]) -> TopicIndex:
    """Compile every topic; one whose stored query is refused is left out and logged."""
    queries = _queries(topics)
    refused = {error.topic for error in validate_topics(queries)}
    for name in sorted(refused):
        log.error("topic %s has a malformed query and is not matched; fix it with /setquery", name)
    return compile_topics(q for q in queries if q.topic not in refused)


class TranslationLike(Protocol):
    title: str
    summary: str
    translated: bool


Translate = Callable[[str, str, str, str], Awaitable[TranslationLike]]


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
        return story_signature(entry.title, entry.summary, entry.language, entry.link,
                               pivot_title, pivot_summary)

    async def place(self, stored: StoredEntry, matches: list[tuple[str, tuple[str, ...]]],
                    now: float, signature: StorySignature | None = None) -> RecordedEntry:
        """Join the entry to its story (or start one) with its matches and outbox work."""
        if signature is None:
            signature = await self.signature(stored.entry)
        async with self._lock:
            self.stories.expire(now, self.window)
            best = self.stories.best_story(signature, now, self.window)
            recorded = await record_entry(
                self.db, stored.id, stored.entry.alert_key, matches, now, story_id=best,
                signature=json.dumps(signature.to_dict(), ensure_ascii=False))
            if recorded.placed:
                if recorded.story_id in self.stories:
                    self.stories.join(recorded.story_id, signature, now)
                else:
                    self.stories.add(recorded.story_id, signature, now)
        return recorded


class MatchStage:
    def __init__(self, db: Database, index: TopicIndex = EMPTY_INDEX,
                 on_recorded: Callable[[], None] = lambda: None,
                 cluster: ClusterStage | None = None, window: float = 48 * 3600.0) -> None:
        self.db = db
        self.index = index
        self._on_recorded = on_recorded  # wakes the deliverer
        self.cluster = cluster or ClusterStage(db, window)

    @classmethod
    async def load(cls, db: Database, on_recorded: Callable[[], None] = lambda: None,
                   cluster: ClusterStage | None = None) -> MatchStage:
        return cls(db, compile_stored_topics(await list_topics(db)), on_recorded,
                   cluster or await ClusterStage.load(db, 48 * 3600.0))

    async def topics_changed(self) -> None:
        """Bring the index in line with the stored topics, recompiling only what differs."""
        stored = {t.name: dict(t.queries) for t in await list_topics(self.db)}
        index = self.index
        for name in set(index.topics) - stored.keys():
            index = index.without_topic(name)
        for name, queries in stored.items():
            if index.queries(name) != queries:
                try:
                    index = index.with_topic(name, queries)
                except TopicQueryError as error:
                    log.error("topic %s not updated: %s", name, error)
        self.index = index

    async def on_new_entries(self, feed: Feed, entries: list[StoredEntry],
                             now: float | None = None) -> int:
        """Match each new entry and store its matches with their outbox rows; rows queued."""
        index = self.index
        queued = 0
        unmatched = []
        matched = []
        for stored in entries:
            entry = stored.entry
            found = index.match(entry.title, entry.summary, entry.language)
            if found:
                matched.append((stored, [(m.topic, tuple(m.terms)) for m in found]))
            else:
                unmatched.append(stored.id)
        # The poll's pivot translations at once (each one call, shared through the cache),
        # then each entry placed in turn: a later entry may join a story an earlier started.
        signatures = await asyncio.gather(*(self.cluster.signature(stored.entry)
                                            for stored, _ in matched))
        for (stored, found), signature in zip(matched, signatures):
            recorded = await self.cluster.place(stored, found,
                                                time.time() if now is None else now, signature)
            queued += recorded.queued
        await mark_matched(self.db, unmatched)
        if queued:
            self._on_recorded()
        return queued

    async def recover(self) -> int:
        """Match entries stored as new whose matching a crash or an error interrupted."""
        queued = 0
        while batch := await pending_entries(self.db):
            for feed, stored in batch:
                queued += await self.on_new_entries(feed, [stored])
        return queued
