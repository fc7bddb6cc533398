"""All topics' queries compiled into one index: an entry -> the topics it matches,
with the terms that matched, at a cost that does not grow with the number of topics.

Like Lucene Monitor or the Elasticsearch percolator, each query is filed under a
few "anchor" terms, chosen so that the query cannot match an entry that contains
none of them (for AND one operand's anchors suffice, for OR every operand's are
needed). An entry looks up its own distinct stems and word prefixes in those
postings and only the queries found there are evaluated.

A query with two different anchor sets (`a AND b`, a phrase's two words) is filed
under both, and selected only by an entry that hits both: Lucene Monitor's
multipass presearcher, which at 10,000 topics halves the candidates. Each query's
test is one generated Python function over the entry's stem set
(compiled_query.py; the collector is held off while compiling: collector.py).

A TopicIndex is immutable. `with_topic` / `without_topic` return a new index that
shares everything the edit does not touch (copy-on-write of the per-language
posting maps and of the affected postings only), so applying an admin's edit is
cheap, and a matcher that holds the old index keeps a consistent view until the
owner swaps in the new one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter, itemgetter

from bot.matching.collector import collector_paused
from bot.matching.compiled_query import (
    Anchors,
    CompiledQuery,
    Matcher,
    TopicMatch,
    TopicQuery,
    TopicQueryError,
    compile_query,
    validate_topics,
)
from bot.matching.text import EntryTokens, tokenize_entry

__all__ = ["EMPTY_INDEX", "TopicIndex", "TopicMatch", "TopicQuery", "TopicQueryError",
           "compile_topics", "validate_topics"]

# ---------------------------------------------------------------- the index

# Postings are frozensets: a set union or intersection then reuses the hashes they
# store, without reading the (scattered, cache-cold) query objects themselves.
Postings = dict[str, frozenset[Matcher]]
_by_topic = attrgetter("topic")


@dataclass(frozen=True, slots=True)
class _Pass:
    """One set of anchors per query -> the queries, per language: an entry that
    contains one of a query's anchor stems or prefixes selects that query."""

    stems: dict[str, Postings]  # language -> anchor stem -> queries
    prefixes: dict[str, Postings]  # language -> anchor prefix -> queries
    # An entry's words are cut at each length some anchor prefix key has, then
    # looked up: at most PREFIX_KEY_LENGTH - 1 lengths.
    prefix_lengths: dict[str, tuple[int, ...]]

    def lookup_prefixes(self, entry: EntryTokens, found: set[Matcher]) -> None:
        """Add the queries the entry selects by their prefix anchors to found."""
        prefixes = self.prefixes.get(entry.language)
        if prefixes:
            for length in self.prefix_lengths[entry.language]:
                # Cut as they are looked up: no set of the entry's word starts is built.
                starts = map(itemgetter(slice(length)), entry.words)
                found.update(*map(prefixes.__getitem__, prefixes.keys() & starts))

    def edited(
        self,
        remove: list[CompiledQuery],
        add: list[CompiledQuery],
        anchors_of: Callable[[CompiledQuery], Anchors | None],
    ) -> _Pass:
        prefixes = _edited_postings(self.prefixes, remove, add, anchors_of, "prefixes")
        return _Pass(
            _edited_postings(self.stems, remove, add, anchors_of, "stems"),
            prefixes,
            {
                language: tuple(sorted({len(prefix) for prefix in postings}))
                for language, postings in prefixes.items()
            },
        )


_EMPTY_PASS = _Pass({}, {}, {})

# The three passes' stem postings together, per language: anchor stem -> (ALONE,
# FIRST, SECOND) queries. An entry's stems are then looked up in one dict instead
# of three: at 10,000 topics each lookup is a cache miss, and an entry has
# hundreds of stems.
_Hits = tuple[frozenset[Matcher], frozenset[Matcher], frozenset[Matcher]]
_NOTHING: frozenset[Matcher] = frozenset()
_alone_hits = itemgetter(0)
_first_hits = itemgetter(1)
_second_hits = itemgetter(2)


def _edited_hits(
    current: dict[str, dict[str, _Hits]],
    changed: list[CompiledQuery],
    alone: _Pass,
    first: _Pass,
    second: _Pass,
) -> dict[str, dict[str, _Hits]]:
    """Copy-on-write, as the passes: only the stems the edit touches are rebuilt."""
    touched: dict[str, set[str]] = defaultdict(set)
    for compiled in changed:
        for anchors in compiled.anchors:
            touched[compiled.language].update(anchors.stems)
    result = dict(current)
    for language, keys in touched.items():
        table = dict(current.get(language, {}))
        postings = [each.stems.get(language, {}) for each in (alone, first, second)]
        for key in keys:
            hits = tuple(posting.get(key, _NOTHING) for posting in postings)
            if any(hits):
                table[key] = hits  # type: ignore[assignment]
            else:
                table.pop(key, None)
        result[language] = table
    return result


# A query with one set of anchors is selected by the ALONE pass; one with two
# only when the entry hits both its FIRST and its SECOND set.
def _alone(compiled: CompiledQuery) -> Anchors | None:
    return compiled.anchors[0] if len(compiled.anchors) == 1 else None


def _first(compiled: CompiledQuery) -> Anchors | None:
    return compiled.anchors[0] if len(compiled.anchors) == 2 else None


def _second(compiled: CompiledQuery) -> Anchors | None:
    return compiled.anchors[1] if len(compiled.anchors) == 2 else None


class TopicIndex:
    """Immutable; see the module docstring for how edits are applied."""

    __slots__ = ("_alone", "_first", "_hits", "_second", "_topics")

    def __init__(
        self,
        topics: dict[str, dict[str, CompiledQuery]],
        alone: _Pass,
        first: _Pass,
        second: _Pass,
        hits: dict[str, dict[str, _Hits]],
    ) -> None:
        self._topics = topics  # topic -> language -> compiled query
        self._alone = alone
        self._first = first
        self._second = second
        self._hits = hits  # language -> stem -> the three passes' queries (_Hits)

    # -- reading

    def __len__(self) -> int:
        return len(self._topics)

    def __contains__(self, topic: object) -> bool:
        return topic in self._topics

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(sorted(self._topics))

    def queries(self, topic: str) -> dict[str, str]:
        """The topic's query text per language ({} for an unknown topic)."""
        return {
            language: compiled.source for language, compiled in self._topics.get(topic, {}).items()
        }

    def match(self, title: str, summary: str, language: str) -> list[TopicMatch]:
        """Topics whose query for `language` matches the entry, sorted by topic."""
        return self.match_tokens(tokenize_entry(title, summary, language))

    def match_tokens(self, entry: EntryTokens) -> list[TopicMatch]:
        """As `match`, for an entry already analysed by text.tokenize_entry."""
        stems = entry.stems
        matches = []
        append = matches.append
        for matcher in self._candidates(entry):
            found = matcher(stems, entry)
            if found is not None:
                append(found)
        matches.sort(key=_by_topic)
        return matches

    def candidate_count(self, entry: EntryTokens) -> int:
        """How many queries the entry's anchors select for evaluation (for benchmarks)."""
        return len(self._candidates(entry))

    def _candidates(self, entry: EntryTokens) -> set[Matcher]:
        table = self._hits.get(entry.language)
        if table:
            hits = list(map(table.__getitem__, table.keys() & entry.stems))
            candidates = set().union(*map(_alone_hits, hits))
            first = set().union(*map(_first_hits, hits))
        else:
            hits, candidates, first = [], set(), set()
        self._alone.lookup_prefixes(entry, candidates)
        self._first.lookup_prefixes(entry, first)
        if first:
            # Only now is the SECOND pass looked up, prefixes included: `prefix* AND
            # common`, filed first under the common word, would otherwise be
            # evaluated for every entry with that word.
            second = set().union(*map(_second_hits, hits))
            self._second.lookup_prefixes(entry, second)
            first &= second
            candidates |= first
        return candidates

    # -- editing

    def with_topic(self, topic: str, queries: Mapping[str, str]) -> TopicIndex:
        """A new index where `topic` has exactly these queries (language -> text).

        Raises TopicQueryError, leaving this index as it was, if one is refused.
        """
        compiled = [compile_query(topic, language, text) for language, text in queries.items()]
        return self._edited(remove=list(self._topics.get(topic, {}).values()), add=compiled)

    def without_topic(self, topic: str) -> TopicIndex:
        """A new index without `topic` (the same index if it is unknown)."""
        if topic not in self._topics:
            return self
        return self._edited(remove=list(self._topics[topic].values()), add=[])

    def _edited(self, remove: list[CompiledQuery], add: list[CompiledQuery]) -> TopicIndex:
        topics = dict(self._topics)
        # Touched topics get fresh per-language dicts: the old index shares the old ones.
        for compiled in (*remove, *add):
            topics.pop(compiled.topic, None)
        for compiled in add:
            topics.setdefault(compiled.topic, {})[compiled.language] = compiled
        alone = self._alone.edited(remove, add, _alone)
        first = self._first.edited(remove, add, _first)
        second = self._second.edited(remove, add, _second)
        hits = _edited_hits(self._hits, [*remove, *add], alone, first, second)
        return TopicIndex(topics, alone, first, second, hits)


def _edited_postings(
    current: dict[str, Postings],
    remove: list[CompiledQuery],
    add: list[CompiledQuery],
    anchors_of: Callable[[CompiledQuery], Anchors | None],
    kind: str,
) -> dict[str, Postings]:
    """Copy-on-write: only the languages and postings the edit touches are copied."""
    removals: dict[str, dict[str, set[Matcher]]] = defaultdict(lambda: defaultdict(set))
    additions: dict[str, dict[str, list[Matcher]]] = defaultdict(lambda: defaultdict(list))
    for compiled in remove:
        anchors = anchors_of(compiled)
        for key in getattr(anchors, kind) if anchors is not None else ():
            removals[compiled.language][key].add(compiled.matcher)
    for compiled in add:
        anchors = anchors_of(compiled)
        for key in getattr(anchors, kind) if anchors is not None else ():
            additions[compiled.language][key].append(compiled.matcher)
    result = dict(current)
    for language in removals.keys() | additions.keys():
        postings = dict(current.get(language, {}))
        for key, gone in removals[language].items():
            kept = postings.get(key, frozenset()) - gone
            if kept:
                postings[key] = kept
            else:
                postings.pop(key, None)
        for key, new in additions[language].items():
            postings[key] = postings.get(key, frozenset()).union(new)
        result[language] = postings
    return result


def compile_topics(queries: Iterable[TopicQuery]) -> TopicIndex:
    """Compile every topic's queries into one index.

    Raises TopicQueryError naming the first refused topic (use validate_topics to
    list them all), and ValueError for two queries of one topic in one language.
    """
    compiled: list[CompiledQuery] = []
    seen: set[tuple[str, str]] = set()
    with collector_paused():
        for item in queries:
            if (item.topic, item.language) in seen:
                raise ValueError(f"topic {item.topic!r} has two {item.language} queries")
            seen.add((item.topic, item.language))
            compiled.append(compile_query(item.topic, item.language, item.query))
        return EMPTY_INDEX._edited(remove=[], add=compiled)


EMPTY_INDEX = TopicIndex({}, _EMPTY_PASS, _EMPTY_PASS, _EMPTY_PASS, {})
