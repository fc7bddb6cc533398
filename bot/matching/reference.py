"""The plain way to match: evaluate every topic's query, term by term, against an
entry. Deliberately naive; it is the yardstick the index is tested and benchmarked
against, not something the service runs."""

from __future__ import annotations

from collections.abc import Iterable

from bot.matching.index import TopicMatch, TopicQuery
from bot.matching.query import (
    And,
    Node,
    Not,
    Or,
    Query,
    Term,
    parse_query,
    positive_terms,
    query_terms,
)
from bot.matching.text import FIELD_BREAK, EntryTokens, stem_words, tokenize_entry


def _fields(entry: EntryTokens) -> list[tuple[str, ...]]:
    """The entry's title and summary stems, apart."""
    sequence = entry.sequence
    cut = sequence.index(FIELD_BREAK)
    return [sequence[:cut], sequence[cut + 1 :]]


def term_present(term: Term, entry: EntryTokens, stems: tuple[str, ...]) -> bool:
    """Whether the term occurs; `stems` are the term's words stemmed for the entry's language.

    A word is looked for anywhere in the entry, a phrase within the title or within
    the summary, never across the two."""
    if term.prefix:
        return any(word.startswith(term.words[0]) for word in entry.words)
    if len(stems) == 1:
        return stems[0] in entry.stems
    return any(
        field[start : start + len(stems)] == stems
        for field in _fields(entry)
        for start in range(len(field) - len(stems) + 1)
    )


def evaluate(node: Node, entry: EntryTokens, stems: dict[Term, tuple[str, ...]]) -> bool:
    if isinstance(node, Term):
        return term_present(node, entry, stems[node])
    if isinstance(node, Not):
        return not evaluate(node.operand, entry, stems)
    if isinstance(node, And):
        return all(evaluate(operand, entry, stems) for operand in node.operands)
    assert isinstance(node, Or)
    return any(evaluate(operand, entry, stems) for operand in node.operands)


class ReferenceMatcher:
    """Same answers as TopicIndex.match_tokens, checking every query."""

    def __init__(self, queries: Iterable[TopicQuery]) -> None:
        self._queries: list[tuple[str, Query]] = [
            (item.topic, parse_query(item.query, item.language)) for item in queries
        ]
        # Query terms are stemmed once, as the entry is: only evaluation is per entry.
        self._stems: dict[str, dict[Term, tuple[str, ...]]] = {}
        for _, query in self._queries:
            by_term = self._stems.setdefault(query.language, {})
            for term in query_terms(query):
                by_term[term] = tuple(stem_words(term.words, query.language))

    def match(self, title: str, summary: str, language: str) -> list[TopicMatch]:
        return self.match_tokens(tokenize_entry(title, summary, language))

    def match_tokens(self, entry: EntryTokens) -> list[TopicMatch]:
        matches = []
        stems = self._stems.get(entry.language, {})
        for topic, query in self._queries:
            if query.language == entry.language and evaluate(query.root, entry, stems):
                terms = dict.fromkeys(
                    term.display
                    for term in positive_terms(query.root)
                    if term_present(term, entry, stems[term])
                )
                matches.append(TopicMatch(topic, tuple(terms)))
        return sorted(matches, key=lambda match: match.topic)
