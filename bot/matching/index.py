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
test is one generated Python function over the entry's stem set (see _Source).

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
from itertools import compress
from operator import attrgetter, itemgetter
from types import CodeType, FunctionType

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

PREFIX_KEY_LENGTH = 5


@dataclass(frozen=True)
class TopicQuery:
    """One topic's query for one language, as stored."""

    topic: str
    language: str
    query: str


@dataclass(frozen=True, slots=True)
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

# A query's test is called for every entry that selects it as a candidate, so its
# per-call cost is what matching costs. Each query therefore becomes one Python
# function whose body is the whole boolean expression, `k0 in s and not (k1 in s
# or e.has_phrase(k2, 0))`: one call per candidate instead of one per AST node.
# Only operators and placeholder names are ever written into that source; the
# query's stems and prefixes reach the function as values bound to the
# placeholders, never as code. Queries of one shape share one compiled factory,
# so compiling 10,000 topics compiles a few dozen functions.
Matcher = Callable[[frozenset[str], EntryTokens], "TopicMatch | None"]  # see _CompiledQuery


class _Source:
    """One query's test as Python source over placeholders, and their values."""

    def __init__(self, language: str, slots: Mapping[Term, str] | None = None) -> None:
        self.language = language
        self.values: list[object] = []
        # Terms already evaluated into local variables (q0, q1...): read, not re-tested.
        self.slots = slots or {}

    def value(self, value: object) -> str:
        self.values.append(value)
        return f"k{len(self.values) - 1}"

    def node(self, node: Node) -> str:
        if isinstance(node, Term):
            slot = self.slots.get(node)
            return slot if slot is not None else self.term(node)
        if isinstance(node, Not):
            return f"not {self.node(node.operand)}"
        joiner = " and " if isinstance(node, And) else " or "
        return "(" + joiner.join(self.node(operand) for operand in node.operands) + ")"

    def term(self, term: Term) -> str:
        if term.prefix:
            return f"e.has_prefix({self.value(term.words[0])})"
        stems = _stems(term.words, self.language)
        if len(stems) == 1:
            return f"({self.value(stems[0])} in s)"
        # Testing each word first rejects most entries before the phrase test.
        present = " and ".join(f"{self.value(stem)} in s" for stem in dict.fromkeys(stems))
        phrase = self.value(stems)
        return f"({present} and e.has_phrase({phrase}, {_rarest(term.words, self.language)}))"


@lru_cache(maxsize=4096)
def _test_code(body: str, count: int) -> CodeType:
    names = "".join(f", k{number}=None" for number in range(count))
    namespace: dict[str, object] = {"__builtins__": {}}
    if not body.startswith("    "):  # one expression
        body = f"    return {body}"
    exec(f"def test(s, e{names}):\n{body}\n", namespace)
    return namespace["test"].__code__  # type: ignore[attr-defined]


def _bound(source: _Source, body: str) -> Callable[..., object]:
    # The values are bound as the defaults of k0, k1...: a call then reaches them
    # through one tuple, where closure cells would cost a memory access each.
    return FunctionType(
        _test_code(body, len(source.values)), _NO_GLOBALS, None, tuple(source.values)
    )


_NO_GLOBALS: dict[str, object] = {"__builtins__": {}}


def _node_test(node: Node, language: str, fixed: TopicMatch) -> Matcher:
    source = _Source(language)
    expression = source.node(node)
    return _bound(source, f"{source.value(fixed)} if {expression} else None")  # type: ignore[return-value]


def _selected(fixed: TopicMatch) -> Matcher:
    """For a query that an entry matches whenever it selects it."""
    source = _Source("")
    return _bound(source, source.value(fixed))  # type: ignore[return-value]


def _present_test(topic: str, node: Node, terms: tuple[Term, ...], language: str) -> Matcher:
    """For a query with OR: its match, with the positive terms the entry contains,
    or None, in one call. Each term is tested once, into a local variable that the
    boolean expression then reads, so a match costs no second evaluation of its
    terms. The answer is built afresh, not memoised: a memo keeps every answer
    alive, and those objects would trigger the cyclic collector about once per 25
    entries at 10,000 topics, each pass costing more than building the answers."""
    source = _Source(language, {term: f"q{number}" for number, term in enumerate(terms)})
    tests = "".join(f"    q{number} = {source.term(term)}\n" for number, term in enumerate(terms))
    expression = source.node(node)
    present = "(" + "".join(f"q{number}, " for number in range(len(terms))) + ")"
    displays = tuple(term.display for term in terms)
    found = f"{source.value(compress)}({source.value(displays)}, {present})"
    if len(set(displays)) != len(displays):  # two terms show the same
        found = f"{source.value(dict.fromkeys)}({found})"
    answer = f"{source.value(TopicMatch)}({source.value(topic)}, {source.value(tuple)}({found}))"
    return _bound(source, f"{tests}    return {answer} if {expression} else None")  # type: ignore[return-value]


@lru_cache(maxsize=65536)
def _stems(words: tuple[str, ...], language: str) -> tuple[str, ...]:
    return tuple(stem_words(words, language))


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


def _term_anchors(term: Term, language: str) -> list[_Anchors]:
    return list(_word_anchors(term.words, term.prefix, language))


# Topics share many terms: their anchors are built once, and shared.
@lru_cache(maxsize=65536)
def _word_anchors(words: tuple[str, ...], prefix: bool, language: str) -> tuple[_Anchors, ...]:
    if prefix:
        # A prefix covers many words: dearer than a word of the same length. It is
        # filed under at most its first PREFIX_KEY_LENGTH letters, so that an entry
        # needs to cut its words at only a few lengths to look prefixes up.
        start = words[0]
        return (_Anchors(frozenset(), frozenset({start[:PREFIX_KEY_LENGTH]}), 2 + 8 / len(start)),)
    # A phrase can only occur where each of its words does: each is a choice.
    stems = _stems(words, language)
    choices = {
        stem: _Anchors(frozenset({stem}), frozenset(), _word_cost(word, language))
        for word, stem in zip(words, stems)
    }
    return tuple(sorted(choices.values(), key=_by_cost)[:_PASSES])


def _anchors(node: Node, language: str, negated: bool = False) -> list[_Anchors] | None:
    """Up to _PASSES different sets of terms, cheapest first, of each of which an
    entry must contain at least one for the query to match; None when there is no
    such set (parse_query refuses those queries)."""
    if isinstance(node, Term):
        if negated:
            return None
        return _term_anchors(node, language)
    if isinstance(node, Not):
        return _anchors(node.operand, language, not negated)
    found = [_anchors(operand, language, negated) for operand in node.operands]
    # Under an odd number of NOTs, AND acts as OR and OR as AND (De Morgan).
    if isinstance(node, And) != negated:
        # Any operand's choice is a choice for the whole.
        usable = {
            (anchors.stems, anchors.prefixes): anchors
            for choices in found
            if choices is not None
            for anchors in choices
        }
        return sorted(usable.values(), key=_by_cost)[:_PASSES] or None
    if any(choices is None for choices in found):
        return None
    # One choice of every operand, together, is a choice for the whole.
    combined = [
        reduce(
            lambda left, right: left | right,
            (choices[min(n, len(choices) - 1)] for choices in found),
        )  # type: ignore[index]
        for n in range(max(len(choices) for choices in found))  # type: ignore[arg-type]
    ]
    return sorted(combined, key=_by_cost)


_PASSES = 2


def _by_cost(anchors: _Anchors) -> tuple[bool, float]:
    # Prefix anchors last whatever their guessed rarity: to look them up, an entry
    # must cut every one of its words to the anchors' lengths, which costs more
    # than evaluating a few more candidates.
    return bool(anchors.prefixes), anchors.cost


@dataclass(frozen=True, eq=False, slots=True)
class _CompiledQuery:
    topic: str
    language: str
    source: str
    # (entry.stems, entry) -> the entry's TopicMatch, or None. The postings hold
    # these functions, not the _CompiledQuery: evaluating a candidate then touches
    # one object fewer, each a likely cache miss at 10,000 topics. A query without
    # OR returns one answer built at compile time (a match always has all its
    # positive terms); one with OR builds it from the terms it found.
    matcher: Matcher
    anchors: tuple[_Anchors, ...]  # one, or two that an entry must both hit


def _required_terms(node: Node) -> frozenset[Term]:
    """Terms every matching entry contains."""
    if isinstance(node, Term):
        return frozenset({node})
    if isinstance(node, And):
        return frozenset().union(*map(_required_terms, node.operands))
    if isinstance(node, Or):
        return frozenset.intersection(*map(_required_terms, node.operands))
    return frozenset()


def _clauses(node: Node, language: str) -> set[frozenset[str]] | None:
    """The query as an AND of ORs of single stems, when it is one (no phrase, no
    prefix, no NOT): the stem sets of which an entry must hit each."""
    operands = node.operands if isinstance(node, And) else (node,)
    clauses = set()
    for operand in operands:
        terms = operand.operands if isinstance(operand, Or) else (operand,)
        if not all(
            isinstance(term, Term) and not term.prefix and len(term.words) == 1 for term in terms
        ):
            return None
        clauses.add(frozenset(_stems(term.words, language)[0] for term in terms))  # type: ignore[union-attr]
    return clauses


def _compile_query(topic: str, query: Query) -> _CompiledQuery:
    language = query.language
    choices = _anchors(query.root, language)
    if choices is None:  # parse_query refuses these; kept as a guard for hand-built ASTs
        raise TopicQueryError(
            topic, language, QueryError("query needs a term that must be present", 0)
        )
    # Two different choices (the second only if it differs) make an entry a
    # candidate only when it hits both, as Lucene Monitor's multipass presearcher.
    first, second = choices[0], choices[-1]
    distinct = (first.stems, first.prefixes) != (second.stems, second.prefixes)
    # A second set may have prefixes: an entry cuts its words to look them up only
    # when it already hit some query's first set (see TopicIndex._candidates).
    anchors = (first, second) if distinct else (first,)
    positive = tuple(dict.fromkeys(positive_terms(query.root)))
    if _required_terms(query.root).issuperset(positive):
        fixed = TopicMatch(topic, tuple(dict.fromkeys(term.display for term in positive)))
        # When hitting its anchors is the whole query (`word`, `a AND b`), an entry
        # that selects it matches, and there is nothing to test.
        exact = _clauses(query.root, language) == {chosen.stems for chosen in anchors}
        matcher = _selected(fixed) if exact else _node_test(query.root, language, fixed)
    else:
        matcher = _present_test(topic, query.root, positive, language)
    return _CompiledQuery(topic, language, query.text, matcher, anchors)


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
        remove: list[_CompiledQuery],
        add: list[_CompiledQuery],
        anchors_of: Callable[[_CompiledQuery], _Anchors | None],
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
    changed: list[_CompiledQuery],
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
def _alone(compiled: _CompiledQuery) -> _Anchors | None:
    return compiled.anchors[0] if len(compiled.anchors) == 1 else None


def _first(compiled: _CompiledQuery) -> _Anchors | None:
    return compiled.anchors[0] if len(compiled.anchors) == 2 else None


def _second(compiled: _CompiledQuery) -> _Anchors | None:
    return compiled.anchors[1] if len(compiled.anchors) == 2 else None


class TopicIndex:
    """Immutable; see the module docstring for how edits are applied."""

    __slots__ = ("_alone", "_first", "_hits", "_second", "_topics")

    def __init__(
        self,
        topics: dict[str, dict[str, _CompiledQuery]],
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

    def _edited(self, remove: list[_CompiledQuery], add: list[_CompiledQuery]) -> TopicIndex:
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
    remove: list[_CompiledQuery],
    add: list[_CompiledQuery],
    anchors_of: Callable[[_CompiledQuery], _Anchors | None],
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
    compile time at 10,000 topics) and find nothing to free.

    Left to itself, the collector would scan them during the first entries matched,
    at tens of milliseconds per collection (a full one among them, as they add more
    than a quarter to the heap). A large compile therefore ends with gc.freeze():
    everything alive is moved out of the collector's sight at no scanning cost.
    Reference counting still frees what an edit later replaces; only a reference
    cycle made before the freeze would outlive its use, and the index makes none."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            if gc.get_count()[0] > _MANY_NEW_OBJECTS:
                gc.freeze()


_MANY_NEW_OBJECTS = 50_000


EMPTY_INDEX = TopicIndex({}, _EMPTY_PASS, _EMPTY_PASS, _EMPTY_PASS, {})
