"""All topics' queries compiled into one index: an entry -> the topics it matches,
with the terms that matched, at a cost that does not grow with the number of topics.

Like Lucene Monitor or the Elasticsearch percolator, each query is filed under a
few "anchor" terms, chosen so that the query cannot match an entry that contains
none of them (for AND one operand's anchors suffice, for OR every operand's are
needed). An entry looks up its own distinct stems and word prefixes in those
postings and only the queries found there are evaluated.

A TopicIndex is immutable. `with_topic` / `without_topic` return a new index that
shares everything the edit does not touch (copy-on-write of the per-language
posting maps and of the affected postings only), so applying an admin's edit is
cheap, and a matcher that holds the old index keeps a consistent view until the
owner swaps in the new one.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, reduce

from bot.matching.query import (
    And,
    Node,
    Not,
    Or,
    Query,
    QueryError,
    Term,
    parse_query,
    positive_terms,
)
from bot.matching.text import COMMON_WORDS, EntryTokens, stem_words, tokenize_entry

Test = Callable[[EntryTokens], bool]

PREFIX_KEY_LENGTH = 5


@dataclass(frozen=True)
class TopicQuery:
    """One topic's query for one language, as stored."""

    topic: str
    language: str
    query: str


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    terms: tuple[str, ...]  # matched query terms as written: ukraine, "storm shadow", europ*


class TopicQueryError(QueryError):
    """A topic's query was refused; says which topic and language."""

    def __init__(self, topic: str, language: str, error: QueryError) -> None:
        super().__init__(error.message, error.position)
        self.topic = topic
        self.language = language
        self.args = (f"topic {topic!r} ({language}): {error.message} at position {error.position}",)


# ---------------------------------------------------------------- term tests


def _has_phrase(sequence: tuple[str, ...], phrase: tuple[str, ...], pivot: int) -> bool:
    """Whether phrase occurs in sequence; the scan jumps between occurrences of
    phrase[pivot], its rarest-looking word, not of a "de" or "the"."""
    anchor, length = phrase[pivot], len(phrase)
    found = pivot - 1
    try:
        while True:
            found = sequence.index(anchor, found + 1)
            start = found - pivot
            if start >= 0 and sequence[start : start + length] == phrase:
                return True
    except ValueError:
        return False


def _term_test(term: Term, language: str) -> Test:
    return _word_test(term.words, term.prefix, language)


# Topics share many terms, so one test closure per distinct term is built and
# shared: this is most of what keeps compiling 10,000 topics fast.
@lru_cache(maxsize=65536)
def _word_test(words: tuple[str, ...], prefix: bool, language: str) -> Test:
    if prefix:
        start = words[0]
        return lambda entry: entry.has_prefix(start)
    stems = _stems(words, language)
    if len(stems) == 1:
        stem = stems[0]
        return lambda entry: stem in entry.stems
    distinct = frozenset(stems)
    pivot = _rarest(words, language)
    # The set test rejects most entries before the positional scan.
    return lambda entry: distinct <= entry.stems and _has_phrase(entry.sequence, stems, pivot)


@lru_cache(maxsize=65536)
def _stems(words: tuple[str, ...], language: str) -> tuple[str, ...]:
    return tuple(stem_words(words, language))


def _node_test(node: Node, language: str) -> Test:
    if isinstance(node, Term):
        return _term_test(node, language)
    if isinstance(node, Not):
        inner = _node_test(node.operand, language)
        return lambda entry: not inner(entry)
    tests = [_node_test(operand, language) for operand in node.operands]
    # Chained two-operand closures: cheaper per call than all()/any() generators.
    if isinstance(node, And):
        return reduce(lambda left, right: lambda entry: left(entry) and right(entry), tests)
    return reduce(lambda left, right: lambda entry: left(entry) or right(entry), tests)


# ---------------------------------------------------------------- anchors


@dataclass(frozen=True)
class _Anchors:
    stems: frozenset[str]
    prefixes: frozenset[str]
    cost: float  # a guess at how many entries contain one of them; lower is better

    def __or__(self, other: _Anchors) -> _Anchors:
        return _Anchors(
            self.stems | other.stems, self.prefixes | other.prefixes, self.cost + other.cost
        )


def _word_cost(word: str, language: str) -> float:
    # Without document frequencies, length is the usual proxy for rarity (as in
    # Lucene Monitor's default term weighting); function words are the worst.
    return 50.0 if word in COMMON_WORDS[language] else 1 + 4 / len(word)


def _rarest(words: tuple[str, ...], language: str) -> int:
    """Index of the word least likely to be in an entry."""
    return min(range(len(words)), key=lambda index: _word_cost(words[index], language))


def _term_anchors(term: Term, language: str) -> _Anchors:
    if term.prefix:
        # A prefix covers many words: dearer than a word of the same length. It is
        # filed under at most its first PREFIX_KEY_LENGTH letters, so that an entry
        # needs to cut its words at only a few lengths to look prefixes up.
        prefix = term.words[0]
        return _Anchors(frozenset(), frozenset({prefix[:PREFIX_KEY_LENGTH]}), 2 + 8 / len(prefix))
    # A phrase can only occur where its rarest-looking word does.
    index = _rarest(term.words, language)
    return _Anchors(
        frozenset({_stems(term.words, language)[index]}),
        frozenset(),
        _word_cost(term.words[index], language),
    )


def _anchors(node: Node, language: str, negated: bool = False) -> _Anchors | None:
    """Terms of which an entry must contain at least one for the query to match;
    None when there is no such set (parse_query refuses those queries)."""
    if isinstance(node, Term):
        if negated:
            return None
        return _term_anchors(node, language)
    if isinstance(node, Not):
        return _anchors(node.operand, language, not negated)
    found = [_anchors(operand, language, negated) for operand in node.operands]
    # Under an odd number of NOTs, AND acts as OR and OR as AND (De Morgan).
    if isinstance(node, And) != negated:
        usable = [anchors for anchors in found if anchors is not None]
        return min(usable, key=lambda anchors: anchors.cost) if usable else None
    if any(anchors is None for anchors in found):
        return None
    return reduce(lambda left, right: left | right, found)


@dataclass(frozen=True, eq=False)
class _CompiledQuery:
    topic: str
    language: str
    source: str
    test: Test
    anchors: _Anchors
    # The answer when every positive term is required (no OR): computed once,
    # since then a match always has all of them. Otherwise None, and `reported`
    # lists the positive terms to check: (display, test).
    fixed: TopicMatch | None
    reported: tuple[tuple[str, Test], ...]

    def matched(self, entry: EntryTokens) -> TopicMatch:
        """The match for an entry that passed `test`."""
        if self.fixed is not None:
            return self.fixed
        return TopicMatch(
            self.topic,
            tuple(dict.fromkeys(display for display, test in self.reported if test(entry))),
        )


def _required_terms(node: Node) -> frozenset[Term]:
    """Terms every matching entry contains."""
    if isinstance(node, Term):
        return frozenset({node})
    if isinstance(node, And):
        return frozenset().union(*map(_required_terms, node.operands))
    if isinstance(node, Or):
        return frozenset.intersection(*map(_required_terms, node.operands))
    return frozenset()


def _compile_query(topic: str, query: Query) -> _CompiledQuery:
    language = query.language
    anchors = _anchors(query.root, language)
    if anchors is None:  # parse_query refuses these; kept as a guard for hand-built ASTs
        raise TopicQueryError(
            topic, language, QueryError("query needs a term that must be present", 0)
        )
    positive = tuple(dict.fromkeys(positive_terms(query.root)))
    test = _node_test(query.root, language)
    if _required_terms(query.root).issuperset(positive):
        fixed = TopicMatch(topic, tuple(dict.fromkeys(term.display for term in positive)))
        return _CompiledQuery(topic, language, query.text, test, anchors, fixed, ())
    reported = tuple((term.display, _term_test(term, language)) for term in positive)
    return _CompiledQuery(topic, language, query.text, test, anchors, None, reported)


def compile_query(topic: str, language: str, text: str) -> _CompiledQuery:
    try:
        return _compile_query(topic, parse_query(text, language))
    except TopicQueryError:
        raise
    except QueryError as error:
        raise TopicQueryError(topic, language, error) from None


def validate_topics(queries: Iterable[TopicQuery]) -> list[TopicQueryError]:
    """Every refused query, for reporting all problems at once (`check`)."""
    errors = []
    for item in queries:
        try:
            parse_query(item.query, item.language)
        except QueryError as error:
            errors.append(TopicQueryError(item.topic, item.language, error))
    return errors


# ---------------------------------------------------------------- the index

Postings = dict[str, tuple[_CompiledQuery, ...]]


class TopicIndex:
    """Immutable; see the module docstring for how edits are applied."""

    __slots__ = ("_prefix_lengths", "_prefixes", "_stems", "_topics")

    def __init__(
        self,
        topics: dict[str, dict[str, _CompiledQuery]],
        stems: dict[str, Postings],
        prefixes: dict[str, Postings],
    ) -> None:
        self._topics = topics  # topic -> language -> compiled query
        self._stems = stems  # language -> anchor stem -> queries
        self._prefixes = prefixes  # language -> anchor prefix -> queries
        # An entry's words are cut at each length some anchor prefix key has, then
        # looked up: at most PREFIX_KEY_LENGTH - 1 lengths.
        self._prefix_lengths = {
            language: tuple(sorted({len(prefix) for prefix in postings}))
            for language, postings in prefixes.items()
        }

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
        matches = [
            compiled.matched(entry) for compiled in self._candidates(entry) if compiled.test(entry)
        ]
        matches.sort(key=lambda match: match.topic)
        return matches

    def candidate_count(self, entry: EntryTokens) -> int:
        """How many queries the entry's anchors select for evaluation (for benchmarks)."""
        return len(self._candidates(entry))

    def _candidates(self, entry: EntryTokens) -> set[_CompiledQuery]:
        candidates: set[_CompiledQuery] = set()
        stems = self._stems.get(entry.language)
        if stems:
            for stem in stems.keys() & entry.stems:
                candidates.update(stems[stem])
        prefixes = self._prefixes.get(entry.language)
        if prefixes:
            for length in self._prefix_lengths[entry.language]:
                for prefix in prefixes.keys() & entry.word_starts(length):
                    candidates.update(prefixes[prefix])
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

    def _edited(self, remove: list[_CompiledQuery], add: list[_CompiledQuery]) -> TopicIndex:
        topics = dict(self._topics)
        # Touched topics get fresh per-language dicts: the old index shares the old ones.
        for compiled in (*remove, *add):
            topics.pop(compiled.topic, None)
        for compiled in add:
            topics.setdefault(compiled.topic, {})[compiled.language] = compiled
        return TopicIndex(
            topics,
            _edited_postings(self._stems, remove, add, lambda anchors: anchors.stems),
            _edited_postings(self._prefixes, remove, add, lambda anchors: anchors.prefixes),
        )


def _edited_postings(
    current: dict[str, Postings],
    remove: list[_CompiledQuery],
    add: list[_CompiledQuery],
    keys_of: Callable[[_Anchors], frozenset[str]],
) -> dict[str, Postings]:
    """Copy-on-write: only the languages and postings the edit touches are copied."""
    removals: dict[str, dict[str, set[_CompiledQuery]]] = defaultdict(lambda: defaultdict(set))
    additions: dict[str, dict[str, list[_CompiledQuery]]] = defaultdict(lambda: defaultdict(list))
    for compiled in remove:
        for key in keys_of(compiled.anchors):
            removals[compiled.language][key].add(compiled)
    for compiled in add:
        for key in keys_of(compiled.anchors):
            additions[compiled.language][key].append(compiled)
    result = dict(current)
    for language in removals.keys() | additions.keys():
        postings = dict(current.get(language, {}))
        for key, gone in removals[language].items():
            kept = tuple(compiled for compiled in postings.get(key, ()) if compiled not in gone)
            if kept:
                postings[key] = kept
            else:
                postings.pop(key, None)
        for key, new in additions[language].items():
            postings[key] = postings.get(key, ()) + tuple(new)
        result[language] = postings
    return result


def compile_topics(queries: Iterable[TopicQuery]) -> TopicIndex:
    """Compile every topic's queries into one index.

    Raises TopicQueryError naming the first refused topic (use validate_topics to
    list them all), and ValueError for two queries of one topic in one language.
    """
    compiled: list[_CompiledQuery] = []
    seen: set[tuple[str, str]] = set()
    with _collector_paused():
        for item in queries:
            if (item.topic, item.language) in seen:
                raise ValueError(f"topic {item.topic!r} has two {item.language} queries")
            seen.add((item.topic, item.language))
            compiled.append(compile_query(item.topic, item.language, item.query))
        return EMPTY_INDEX._edited(remove=[], add=compiled)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Compiling allocates hundreds of thousands of long-lived, acyclic objects; the
    cyclic garbage collector would rescan them over and over (nearly half of the
    compile time at 10,000 topics) and find nothing to free."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


EMPTY_INDEX = TopicIndex({}, {}, {})
