"""How a topic's queries would have done: which stored entries of a recent period each
language's query matches. Shown to the admin who creates or edits a topic, so a query
that is too broad or matches nothing is seen before it goes live."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.matching.index import TopicQuery, compile_topics
from bot.model import LANGUAGES, StoredText

SHOWN_TITLES = 3


@dataclass(frozen=True)
class LanguageBacktest:
    language: str
    searched: int  # stored entries in that language
    matched: int
    titles: tuple[str, ...]  # up to SHOWN_TITLES matched titles, newest first


def backtest(queries: Mapping[str, str], entries: Iterable[StoredText]) -> list[LanguageBacktest]:
    """Per language with a query, in LANGUAGES order: how many of `entries` (newest
    first) in that language it matches, with the first matched titles."""
    index = compile_topics([TopicQuery("backtest", language, query)
                            for language, query in queries.items()])
    searched = dict.fromkeys(queries, 0)
    matched = dict.fromkeys(queries, 0)
    titles: dict[str, list[str]] = {language: [] for language in queries}
    for entry in entries:
        if entry.language not in queries:
            continue
        searched[entry.language] += 1
        if index.match(entry.title, entry.summary, entry.language):
            matched[entry.language] += 1
            if len(titles[entry.language]) < SHOWN_TITLES:
                titles[entry.language].append(entry.title)
    return [LanguageBacktest(language, searched[language], matched[language],
                             tuple(titles[language]))
            for language in LANGUAGES if language in queries]
