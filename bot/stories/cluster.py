"""Which open story a new entry joins: the open stories in memory, indexed by
their members' features so that one entry meets only the stories it shares
something with, never all of them."""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from itertools import count

from bot.stories.similarity import LEXICAL, StorySignature, feature_weight, similarity

# Chosen on the labelled pairs (benchmarks/stories.py, README "Coverage stories").
THRESHOLD = 0.22
# A story keeps its latest members' signatures: enough to recognise it in every
# language it reached, bounded so that a huge story costs what a small one does.
MEMBERS_KEPT = 12
# Candidates scored exactly, the ones sharing the most feature weight first.
CANDIDATES = 24
# A feature filed under more stories than this is a commonplace ("ukrain" in
# wartime): it finds no candidate, the rarer features do.
COMMON_POSTINGS = 200

StoryId = Hashable


@dataclass
class _Story:
    members: list[StorySignature] = field(default_factory=list)
    latest: float = float("-inf")


@dataclass(frozen=True)
class StoryMatch:
    story_id: StoryId
    score: float


class OpenStories:
    """The stories still open for new entries, and the rule for joining one."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._stories: dict[StoryId, _Story] = {}
        self._index: dict[str, set[StoryId]] = {}
        # (latest entry time, tie-breaker, story) for every join: expiring looks
        # at the oldest only, so the check made before each entry costs nothing
        # when no story is due. Entries for a story that moved on are skipped.
        self._by_age: list[tuple[float, int, StoryId]] = []
        self._sequence = count()

    def __len__(self) -> int:
        return len(self._stories)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._stories

    def best_story(self, signature: StorySignature, now: float, window: float) -> StoryId | None:
        """The most similar open story whose latest entry is within `window`
        seconds of `now`, if it is similar enough; else None."""
        match = self.best_match(signature, now, window)
        return match.story_id if match else None

    def best_match(self, signature: StorySignature, now: float,
                   window: float) -> StoryMatch | None:
        best: StoryMatch | None = None
        for story_id in self._candidates(signature):
            story = self._stories[story_id]
            if now - story.latest > window:
                continue
            score = max(similarity(signature, member) for member in story.members)
            if score >= self.threshold and (best is None or score > best.score):
                best = StoryMatch(story_id, score)
        return best

    def add(self, story_id: StoryId, signature: StorySignature, at: float) -> None:
        """Open a new story with its first entry."""
        if story_id in self._stories:
            raise ValueError(f"story {story_id!r} is already open")
        self._stories[story_id] = _Story()
        self.join(story_id, signature, at)

    def join(self, story_id: StoryId, signature: StorySignature, at: float) -> None:
        """Add an entry to an open story (or reopen a story being restored)."""
        story = self._stories.setdefault(story_id, _Story())
        story.members.append(signature)
        if at > story.latest:
            story.latest = at
            heapq.heappush(self._by_age, (story.latest, next(self._sequence), story_id))
        for feature in _keys(signature):
            self._index.setdefault(feature, set()).add(story_id)
        if len(story.members) > MEMBERS_KEPT:
            dropped = story.members.pop(0)
            kept = set().union(*(_keys(member) for member in story.members))
            for feature in _keys(dropped) - kept:
                self._unindex(feature, story_id)

    def expire(self, now: float, window: float) -> list[StoryId]:
        """Close the stories with no entry within `window` seconds; their ids."""
        closed = []
        while self._by_age and now - self._by_age[0][0] > window:
            latest, _, story_id = heapq.heappop(self._by_age)
            story = self._stories.get(story_id)
            if story is None or story.latest != latest:
                continue  # closed already, or joined since
            del self._stories[story_id]
            for feature in set().union(*(_keys(member) for member in story.members)):
                self._unindex(feature, story_id)
            closed.append(story_id)
        return closed

    def _unindex(self, feature: str, story_id: StoryId) -> None:
        postings = self._index.get(feature)
        if postings is not None:
            postings.discard(story_id)
            if not postings:
                del self._index[feature]

    def _candidates(self, signature: StorySignature) -> Iterable[StoryId]:
        shared: dict[StoryId, float] = {}
        for feature in _keys(signature):
            postings = self._index.get(feature)
            if not postings or len(postings) > COMMON_POSTINGS:
                continue
            weight = feature_weight(feature) if feature[0] != "u" else 100.0
            for story_id in postings:
                shared[story_id] = shared.get(story_id, 0.0) + weight
        if len(shared) <= CANDIDATES:
            return shared
        return sorted(shared, key=shared.__getitem__, reverse=True)[:CANDIDATES]


def _keys(signature: StorySignature) -> set[str]:
    """Index keys: the features, words keyed by their language too, and the link."""
    keys = {
        f"{feature}@{signature.lexical_language}" if feature[0] in LEXICAL else feature
        for feature in signature.features
    }
    if signature.link:
        keys.add(f"u:{signature.link}")
    return keys
