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

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import reduce

from bot.matching.query import And, Node, Not, Or, Query, QueryError, Term, parse_query, positive_terms
from bot.matching.text import EntryTokens, stem_words, tokenize_entry

Test = Callable[[EntryTokens], bool]


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


def _has_phrase(sequence: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    first, length = phrase[0], len(phrase)
    start = -1
    try:
        while True:
            start = sequence.index(first, start + 1)
            if sequence[start : start + length] == phrase:
                return True
    except ValueError:
        return False


def _term_test(term: Term, language: str) -> Test:
    if term.prefix:
        prefix = term.words[0]
        return lambda entry: any(word.startswith(prefix) for word in entry.words)
    stems = tuple(stem_words(term.words, language))
    if len(stems) == 1:
        stem = stems[0]
        return lambda entry: stem in entry.stems
    distinct = frozenset(stems)
    # The set test rejects most entries before the positional scan.
    return lambda entry: distinct <= entry.stems and _has_phrase(entry.sequence, stems)


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

    @property
    def cost(self) -> float:
        # Fewer anchors and longer ones mean fewer candidates: long words are rarer.
        # A prefix is dearer than a word of the same length: it covers many words.
        return sum(1 + 4 / len(stem) for stem in self.stems) + sum(2 + 8 / len(p) for p in self.prefixes)

    def __or__(self, other: _Anchors) -> _Anchors:
        return _Anchors(self.stems | other.stems, self.prefixes | other.prefixes)


def _anchors(node: Node, language: str, negated: bool = False) -> _Anchors | None:
    """Terms of which an entry must contain at least one for the query to match;
    None when there is no such set (parse_query refuses those queries)."""
    if isinstance(node, Term):
        if negated:
            return None
        if node.prefix:
            return _Anchors(frozenset(), frozenset(node.words))
        stems = stem_words(node.words, language)
        return _Anchors(frozenset({max(stems, key=len)}), frozenset())
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
    reported: tuple[tuple[str, Test], ...]  # positive terms: (display, test)
    anchors: _Anchors

    def matched_terms(self, entry: EntryTokens) -> tuple[str, ...]:
        return tuple(dict.fromkeys(display for display, test in self.reported if test(entry)))


def _compile_query(topic: str, query: Query) -> _CompiledQuery:
    anchors = _anchors(query.root, query.language)
    if anchors is None:  # parse_query refuses these; kept as a guard for hand-built ASTs
        raise TopicQueryError(topic, query.language, QueryError("query needs a term that must be present", 0))
    reported = tuple(
        (term.display, _term_test(term, query.language)) for term in dict.fromkeys(positive_terms(query.root))
    )
    return _CompiledQuery(topic, query.language, query.text, _node_test(query.root, query.language), reported, anchors)


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

    __slots__ = ("_topics", "_stems", "_prefixes", "_prefix_lengths")

    def __init__(
        self,
        topics: dict[str, dict[str, _CompiledQuery]],
        stems: dict[str, Postings],
        prefixes: dict[str, Postings],
    ) -> None:
        self._topics = topics  # topic -> language -> compiled query
        self._stems = stems  # language -> anchor stem -> queries
        self._prefixes = prefixes  # language -> anchor prefix -> queries
        # An entry's words are cut at each length some anchor prefix has, then
        # looked up; there are few distinct lengths.
        self._prefix_lengths = {
            language: tuple(sorted({len(prefix) for prefix in postings})) for language, postings in prefixes.items()
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
        return {language: compiled.source for language, compiled in self._topics.get(topic, {}).items()}

    def match(self, title: str, summary: str, language: str) -> list[TopicMatch]:
        """Topics whose query for `language` matches the entry, sorted by topic."""
        return self.match_tokens(tokenize_entry(title, summary, language))

    def match_tokens(self, entry: EntryTokens) -> list[TopicMatch]:
        """As `match`, for an entry already analysed by text.tokenize_entry."""
        candidates: set[_CompiledQuery] = set()
        stems = self._stems.get(entry.language)
        if stems:
            for stem in stems.keys() & entry.stems:
                candidates.update(stems[stem])
        prefixes = self._prefixes.get(entry.language)
        if prefixes:
            words = entry.words
            for length in self._prefix_lengths[entry.language]:
                for prefix in prefixes.keys() & {word[:length] for word in words}:
                    candidates.update(prefixes[prefix])
        matches = [
            TopicMatch(compiled.topic, compiled.matched_terms(entry)) for compiled in candidates if compiled.test(entry)
        ]
        matches.sort(key=lambda match: match.topic)
        return matches

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
    for item in queries:
        if (item.topic, item.language) in seen:
            raise ValueError(f"topic {item.topic!r} has two {item.language} queries")
        seen.add((item.topic, item.language))
        compiled.append(compile_query(item.topic, item.language, item.query))
    return EMPTY_INDEX._edited(remove=[], add=compiled)


EMPTY_INDEX = TopicIndex({}, {}, {})
