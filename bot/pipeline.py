"""The match stage: new entries -> topic matches -> one stored match and outbox rows each.

It owns the live TopicIndex. Admin edits swap in a new index built by
copy-on-write (`with_topic` / `without_topic`), so a batch being matched keeps a
consistent view and an edit costs milliseconds however many topics there are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.alerts.outbox import record_matches
from bot.matching.index import (
    EMPTY_INDEX,
    TopicIndex,
    TopicQuery,
    TopicQueryError,
    compile_topics,
    validate_topics,
)
from bot.model import Feed, StoredEntry, Topic
from bot.store.db import Database
from bot.store.entries import mark_matched, pending_entries
from bot.store.topics import list_topics

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


class MatchStage:
    def __init__(self, db: Database, index: TopicIndex = EMPTY_INDEX,
                 on_recorded: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self.index = index
        self._on_recorded = on_recorded  # wakes the deliverer

    @classmethod
    async def load(cls, db: Database, on_recorded: Callable[[], None] = lambda: None
                   ) -> MatchStage:
        return cls(db, compile_stored_topics(await list_topics(db)), on_recorded)

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
        for stored in entries:
            entry = stored.entry
            found = index.match(entry.title, entry.summary, entry.language)
            if not found:
                unmatched.append(stored.id)
                continue
            queued += await record_matches(
                self.db, stored.id, entry.alert_key,
                [(m.topic, m.terms) for m in found],
                time.time() if now is None else now,
            )
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
