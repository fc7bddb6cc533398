"""Which open story a new entry joins: the open stories in memory, indexed by
their members' features so that one entry meets only the stories it shares
something with, never all of them."""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from itertools import count

from bot.stories.evidence import NO_EVIDENCE, Evidence, agreement, gathered
from bot.stories.similarity import LEXICAL, StorySignature, feature_weight, similarity

# Chosen on one half of the development set (benchmarks/stories.py, README
# "Coverage stories"): the middle of the thresholds with the best B-cubed F1 there.
THRESHOLD = 0.18
# A story is recognised by its core: its first CORE entries that are not
# roundups, and the first entry of each further language (so a Russian entry
# without a pivot still meets Russian words). Entries join by resembling the
# core, never the newest or the most similar member: a story cannot drift from
# event to event as entries join, and a huge story costs what a small one does.
CORE = 5
# What happened (bot/stories/evidence.py): a score is multiplied by
# ACTION_FACTORS[n], n of 0, 1 or 2: whether the entry's headline leads with an
# action the core reports, and whether the core's headlines lead with one the
# entry reports (a headline without an action word says nothing either way). A strike and a production of one missile, an
# appointment and its handover ceremony, report different actions.
ACTION_FACTORS = (0.3, 0.7, 1.0)
# When: reports of one event come within hours of the first. Past TIME_GRACE
# after the story's first entry, a score is divided by 1 + (late / TIME_SCALE)
# (by 4 a day after): a strike the next day with the same weapon and region
# words is another strike. A late headline saying "again", "another", "вновь"
# reports another event of the kind: its score is multiplied by the factor of
# no agreement.
TIME_GRACE = 6 * 3600.0
TIME_SCALE = 6 * 3600.0
# An outlet rarely reports one event twice within a story's life: its next
# entry joins a story it is already in only with SAME_OUTLET times the threshold
# or more (an update, a live page that says the same).
SAME_OUTLET = 2.0
# Candidates scored exactly, the ones sharing the most feature weight first.
CANDIDATES = 24
# A feature filed under more stories than this is a commonplace ("ukrain" in
# wartime): it finds no candidate, the rarer features do.
COMMON_POSTINGS = 200

# What a feed keeps repeating (its name, section, author, standard sentence)
# says which feed, not which event: a feature found in at least
# BOILERPLATE_SHARE of a feed's latest FEED_RECENT entries (and in
# BOILERPLATE_MIN of them) is left out when that feed's entries are compared
# with each other.
FEED_RECENT = 50
BOILERPLATE_SHARE = 0.3
BOILERPLATE_MIN = 5
# What every feed has been writing about lately ("Donald Trump" on a busy
# day, the topic's own words among matched entries) is a topic, not an event:
# a feature found in at least TOPICAL_SHARE of the latest STREAM_RECENT
# entries of all feeds (and in TOPICAL_MIN of them) is left out of every
# comparison. A story's first entries still meet by it.
STREAM_RECENT = 600
TOPICAL_SHARE = 0.02
TOPICAL_MIN = 12
# How an entry is scored against a story of several entries. "single": its
# best score against any member, which lets one member drag in whatever
# resembles it alone, entry after entry (A-B-C with nothing between A and C:
# chains). "supported" (the default): that best score, but no more than twice
# its second best, so the entry must also resemble another member of the story.
LINKAGE = "supported"
LINKAGES = ("single", "supported")
SUPPORT = 2.0

StoryId = Hashable


class Habits:
    """The features a stream of entries keeps repeating, learnt entry by entry
    over its latest `recent` entries: pure counting, no clock."""

    def __init__(self, recent: int, share: float, at_least: int) -> None:
        self.recent, self.share, self.at_least = recent, share, at_least
        self._shown: deque[frozenset[str]] = deque()
        self._counts: Counter[str] = Counter()

    def learn(self, features: frozenset[str]) -> None:
        self._shown.append(features)
        self._counts.update(features)
        if len(self._shown) > self.recent:
            for feature in self._shown.popleft():
                self._counts[feature] -= 1
                if not self._counts[feature]:
                    del self._counts[feature]

    def repeated(self, features: frozenset[str]) -> frozenset[str]:
        """Those of `features` the stream keeps repeating."""
        least = max(self.at_least, self.share * len(self._shown))
        if len(self._shown) < least:
            return frozenset()
        return frozenset(f for f in features if self._counts[f] >= least)


class FeedHabits:
    """Each feed's habits (boilerplate) and the habits of all feeds together (topics)."""

    def __init__(self) -> None:
        self._feeds: dict[str, Habits] = {}
        self.stream = Habits(STREAM_RECENT, TOPICAL_SHARE, TOPICAL_MIN)

    def learn(self, signature: StorySignature) -> None:
        self.stream.learn(signature.features)
        if signature.source:
            feed = self._feeds.get(signature.source)
            if feed is None:
                feed = self._feeds[signature.source] = Habits(
                    FEED_RECENT, BOILERPLATE_SHARE, BOILERPLATE_MIN)
            feed.learn(signature.features)

    def boilerplate(self, signature: StorySignature) -> frozenset[str]:
        """The features of `signature` its own feed keeps repeating."""
        feed = self._feeds.get(signature.source)
        return feed.repeated(signature.features) if feed else frozenset()

    def topical(self, signature: StorySignature) -> frozenset[str]:
        """The features of `signature` all feeds have been repeating."""
        return self.stream.repeated(signature.features)


@dataclass
class _Story:
    opened: int  # order of opening: ties go the same way whatever the hash seed
    core: list[StorySignature] = field(default_factory=list)
    languages: set[str] = field(default_factory=set)  # of the core's words
    sources: set[str] = field(default_factory=set)  # every feed with an entry in it
    first: float | None = None  # when its core began
    evidence: Evidence = NO_EVIDENCE  # what its core reports happened
    latest: float = float("-inf")


@dataclass(frozen=True)
class StoryMatch:
    story_id: StoryId
    score: float


class OpenStories:
    """The stories still open for new entries, and the rule for joining one."""

    def __init__(self, threshold: float = THRESHOLD, linkage: str = LINKAGE,
                 feed_habits: bool = True, event_evidence: bool = True) -> None:
        """`event_evidence` False: words alone, without what happened, when, by
        which outlet, or roundups set apart (the baseline benchmarks compare with)."""
        if linkage not in LINKAGES:
            raise ValueError(f"unknown linkage {linkage!r}")
        self.threshold = threshold
        self.linkage = linkage
        self.event_evidence = event_evidence
        self.habits = FeedHabits() if feed_habits else None
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

    def best_match(self, signature: StorySignature, now: float, window: float,
                   exhaustive: bool = False) -> StoryMatch | None:
        """The best_story and its score; `exhaustive` scores every open story
        instead of the index's candidates (the baseline the index is measured
        against)."""
        best: StoryMatch | None = None
        best_rank: tuple[float, float, int] | None = None
        # Compared without what every feed keeps repeating, and, against the
        # entries of its own feed, without what that feed keeps repeating.
        plain = signature
        if self.habits is not None:
            signature = signature.without(self.habits.topical(signature))
            plain = signature.without(self.habits.boilerplate(signature))
        candidates = self._stories if exhaustive else self._candidates(signature)
        for story_id in candidates:
            story = self._stories[story_id]
            if now - story.latest > window:
                continue
            score = self._score(signature, plain, story, now)
            # Equal scores: the story joined last, then the one opened last.
            rank = (score, story.latest, story.opened)
            if score >= self.threshold and (best_rank is None or rank > best_rank):
                best, best_rank = StoryMatch(story_id, score), rank
        return best

    def add(self, story_id: StoryId, signature: StorySignature, at: float) -> None:
        """Open a new story with its first entry."""
        if story_id in self._stories:
            raise ValueError(f"story {story_id!r} is already open")
        self._stories[story_id] = _Story(next(self._sequence))
        self.join(story_id, signature, at)

    def join(self, story_id: StoryId, signature: StorySignature, at: float) -> None:
        """Add an entry to an open story (or reopen a story being restored, its
        entries in the order they joined)."""
        story = self._stories.get(story_id)
        if story is None:
            story = self._stories[story_id] = _Story(next(self._sequence))
        if self.habits is not None:
            self.habits.learn(signature)
        if signature.source:
            story.sources.add(signature.source)
        if at > story.latest:
            story.latest = at
            heapq.heappush(self._by_age, (story.latest, next(self._sequence), story_id))
        # A roundup names several events: it joins one story but lends its words to none.
        if signature.evidence.roundup and self.event_evidence:
            return
        if len(story.core) < CORE or signature.lexical_language not in story.languages:
            story.core.append(signature)
            story.languages.add(signature.lexical_language)
            story.evidence = gathered([member.evidence for member in story.core])
            if story.first is None:
                story.first = at
            for feature in _keys(signature):
                self._index.setdefault(feature, set()).add(story_id)

    def expire(self, now: float, window: float) -> list[StoryId]:
        """Close the stories with no entry within `window` seconds; their ids."""
        closed = []
        while self._by_age and now - self._by_age[0][0] > window:
            latest, _, story_id = heapq.heappop(self._by_age)
            story = self._stories.get(story_id)
            if story is None or story.latest != latest:
                continue  # closed already, or joined since
            del self._stories[story_id]
            for feature in set().union(*(_keys(member) for member in story.core)):
                self._unindex(feature, story_id)
            closed.append(story_id)
        return closed

    def _score(self, signature: StorySignature, plain: StorySignature, story: _Story,
               now: float) -> float:
        """How likely the entry reports the story's event: its similarity to the
        core's members, weighed by what they report happened, then by when."""
        best = second = 0.0
        for member in story.core:
            score = similarity(plain if member.source == signature.source else signature, member)
            if score > best:
                best, second = score, best
            elif score > second:
                second = score
        if self.linkage != "single" and len(story.core) > 1:
            best = min(best, SUPPORT * second)
        if not self.event_evidence:
            return best
        agreeing = agreement(signature.evidence, story.evidence)
        if agreeing is not None:
            best *= ACTION_FACTORS[agreeing]
        late = now - (story.first if story.first is not None else now) - TIME_GRACE
        if late > 0:
            best /= 1 + late / TIME_SCALE
            if signature.evidence.recurrence:
                best *= ACTION_FACTORS[0]
        if (signature.source and signature.source in story.sources
                and best < SAME_OUTLET * self.threshold):
            return 0.0
        return best

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
        return sorted(shared, key=lambda story_id: (shared[story_id],
                                                    self._stories[story_id].opened),
                      reverse=True)[:CANDIDATES]


def _keys(signature: StorySignature) -> set[str]:
    """Index keys: the features, words keyed by their language too, and the link."""
    keys = {
        f"{feature}@{signature.lexical_language}" if feature[0] in LEXICAL else feature
        for feature in signature.features
    }
    if signature.link:
        keys.add(f"u:{signature.link}")
    return keys
