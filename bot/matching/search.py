"""/search's finding: which stored entries a query per language matches, grouped by the
story they joined, newest first. Pure: the store reads, the handler renders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.matching.index import TopicQuery, compile_topics
from bot.model import SearchableEntry


@dataclass(frozen=True)
class StoryHits:
    """The entries of one story a search found (newest first); story None: an entry that
    joined no story, on its own."""

    story_id: int | None
    entries: tuple[SearchableEntry, ...]


def search_entries(queries: Mapping[str, str],
                   entries: Iterable[SearchableEntry]) -> list[SearchableEntry]:
    """The entries (in the order given) that their language's query matches."""
    index = compile_topics([TopicQuery("search", language, query)
                            for language, query in queries.items()])
    return [entry for entry in entries
            if entry.language in queries and index.match(entry.title, entry.summary,
                                                         entry.language)]


def group_by_story(found: Iterable[SearchableEntry],
                   story_of: Mapping[int, int]) -> list[StoryHits]:
    """Found entries grouped by story, the group with the newest entry first."""
    ordered = sorted(found, key=lambda e: (e.published_at, e.id), reverse=True)
    groups: dict[object, list[SearchableEntry]] = {}
    for entry in ordered:
        story = story_of.get(entry.id)
        groups.setdefault(story if story is not None else ("entry", entry.id), []).append(entry)
    return [StoryHits(key if isinstance(key, int) else None, tuple(entries))
            for key, entries in groups.items()]
