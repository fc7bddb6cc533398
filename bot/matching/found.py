"""Where a match happened: the words of a text that a topic's matched terms hit, as written there.

Matching answers "does it match, on which terms"; an alert also shows the words
themselves ("troupes", "Storm Shadow", "européenne"), in the text's own spelling,
so a reader sees at a glance why it arrived. Same word rules as matching:
normalised words, Snowball stems, prefixes on unstemmed words, phrases in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.matching.query import QueryError, Term, parse_query, query_terms
from bot.matching.text import normalise, stem_words

_RAW_WORD = re.compile(r"[^\W_]+")
MAX_FOUND = 12  # an alert names at most this many words
# Only the start of a long text is searched: an alert shows a short summary, and a
# 20,000-character one would cost ~30 ms of stemming on the event loop per alert.
SEARCHED_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class _Word:
    start: int
    end: int
    word: str  # normalised
    stem: str


def _words(text: str, language: str) -> list[_Word]:
    """The text's words with their places in `text` itself (not in a normalised copy)."""
    spans: list[tuple[int, int, str]] = []
    for raw in _RAW_WORD.finditer(text):
        # Normalising may split a word (a ligature, a compatibility form): each part
        # keeps the place of the word it came from.
        for part in _RAW_WORD.findall(normalise(raw.group())):
            spans.append((raw.start(), raw.end(), part))
    stems = stem_words([part for _, _, part in spans], language)
    return [_Word(start, end, part, stem) for (start, end, part), stem in zip(spans, stems)]


def _terms(displays: Iterable[str], language: str) -> list[Term]:
    terms: list[Term] = []
    for display in displays:
        try:
            terms.extend(query_terms(parse_query(display, language)))
        except QueryError:
            continue  # a term stored by an older query syntax: nothing to show for it
    return terms


def found_spans(text: str, terms: Iterable[str], language: str) -> list[tuple[int, int]]:
    """(start, end) in `text` of every place a term (as a match reports it: `ukraine`,
    `"storm shadow"`, `europ*`) occurs, in order, overlaps merged."""
    words = _words(text, language)
    if not words:
        return []
    hits: list[tuple[int, int]] = []
    for term in _terms(terms, language):
        if term.prefix:
            hits += [(w.start, w.end) for w in words if w.word.startswith(term.words[0])]
            continue
        wanted = stem_words(term.words, language)
        n = len(wanted)
        for i in range(len(words) - n + 1):
            if all(words[i + k].stem == wanted[k] for k in range(n)):
                hits.append((words[i].start, words[i + n - 1].end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(hits):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def found_words(texts: Iterable[str], terms: Iterable[str], language: str) -> tuple[str, ...]:
    """The distinct words (or phrases) the terms hit in `texts` (the first SEARCHED_LENGTH
    characters of each), as spelt there, first seen first."""
    terms = tuple(terms)
    found: dict[str, str] = {}
    for text in texts:
        text = text[:SEARCHED_LENGTH]
        for start, end in found_spans(text, terms, language):
            words = text[start:end]
            found.setdefault(normalise(words), words)
            if len(found) >= MAX_FOUND:
                return tuple(found.values())
    return tuple(found.values())
