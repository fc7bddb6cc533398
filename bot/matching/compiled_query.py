"""One topic query compiled: its test as one generated Python function over the entry's
stems, and the few "anchor" terms it is filed under in the index (see index.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache, reduce
from itertools import compress
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
from bot.matching.text import COMMON_WORDS, EntryTokens, stem_words

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
Matcher = Callable[[frozenset[str], EntryTokens], "TopicMatch | None"]  # see CompiledQuery


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
class Anchors:
    stems: frozenset[str]
    prefixes: frozenset[str]
    cost: float  # a guess at how many entries contain one of them; lower is better

    def __or__(self, other: Anchors) -> Anchors:
        return Anchors(
            self.stems | other.stems, self.prefixes | other.prefixes, self.cost + other.cost
        )


def _word_cost(word: str, language: str) -> float:
    # Without document frequencies, length is the usual proxy for rarity (as in
    # Lucene Monitor's default term weighting); function words are the worst.
    return 50.0 if word in COMMON_WORDS[language] else 1 + 4 / len(word)


def _rarest(words: tuple[str, ...], language: str) -> int:
    """Index of the word least likely to be in an entry."""
    return min(range(len(words)), key=lambda index: _word_cost(words[index], language))


def _term_anchors(term: Term, language: str) -> list[Anchors]:
    return list(_word_anchors(term.words, term.prefix, language))


# Topics share many terms: their anchors are built once, and shared.
@lru_cache(maxsize=65536)
def _word_anchors(words: tuple[str, ...], prefix: bool, language: str) -> tuple[Anchors, ...]:
    if prefix:
        # A prefix covers many words: dearer than a word of the same length. It is
        # filed under at most its first PREFIX_KEY_LENGTH letters, so that an entry
        # needs to cut its words at only a few lengths to look prefixes up.
        start = words[0]
        return (Anchors(frozenset(), frozenset({start[:PREFIX_KEY_LENGTH]}), 2 + 8 / len(start)),)
    # A phrase can only occur where each of its words does: each is a choice.
    stems = _stems(words, language)
    choices = {
        stem: Anchors(frozenset({stem}), frozenset(), _word_cost(word, language))
        for word, stem in zip(words, stems)
    }
    return tuple(sorted(choices.values(), key=_by_cost)[:_PASSES])


def _anchors(node: Node, language: str, negated: bool = False) -> list[Anchors] | None:
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


def _by_cost(anchors: Anchors) -> tuple[bool, float]:
    # Prefix anchors last whatever their guessed rarity: to look them up, an entry
    # must cut every one of its words to the anchors' lengths, which costs more
    # than evaluating a few more candidates.
    return bool(anchors.prefixes), anchors.cost


@dataclass(frozen=True, eq=False, slots=True)
class CompiledQuery:
    topic: str
    language: str
    source: str
    # (entry.stems, entry) -> the entry's TopicMatch, or None. The postings hold
    # these functions, not the CompiledQuery: evaluating a candidate then touches
    # one object fewer, each a likely cache miss at 10,000 topics. A query without
    # OR returns one answer built at compile time (a match always has all its
    # positive terms); one with OR builds it from the terms it found.
    matcher: Matcher
    anchors: tuple[Anchors, ...]  # one, or two that an entry must both hit


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


def _compile_query(topic: str, query: Query) -> CompiledQuery:
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
    return CompiledQuery(topic, language, query.text, matcher, anchors)


def compile_query(topic: str, language: str, text: str) -> CompiledQuery:
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
