"""The domain behind the topic admin commands: reading an /addtopic form, checking its
queries, filling left-out languages by translation, and trying a topic on a text."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import TOPIC_NAME
from bot.matching.index import TopicQuery, compile_topics
from bot.matching.query import QueryError, parse_query
from bot.model import LANGUAGES, Topic

if TYPE_CHECKING:
    from bot.translation.service import Translator

log = logging.getLogger(__name__)

_QUERY_LINE = re.compile(r"^\s*([A-Za-z]{2})\s*:\s*(.*?)\s*$")


class FormError(ValueError):
    """The form is refused; `key` and `values` name the reply in the i18n catalog."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class TopicForm:
    name: str
    title: str
    queries: dict[str, str]  # as the admin wrote them


def read_addtopic(text: str) -> TopicForm:
    """`/addtopic NAME TITLE…` then `LANG: QUERY` lines -> TopicForm; FormError if malformed."""
    first, _, rest = text.partition("\n")
    words = first.split(maxsplit=2)[1:]  # drop the /addtopic itself
    if not words:
        raise FormError("addtopic.usage")
    name = words[0]
    if not TOPIC_NAME.match(name):
        raise FormError("addtopic.bad_name", name=name)
    title = words[1].strip() if len(words) > 1 else name
    queries: dict[str, str] = {}
    for line in rest.splitlines():
        if not line.strip():
            continue
        found = _QUERY_LINE.match(line)
        if not found or found.group(1).lower() not in LANGUAGES or not found.group(2):
            raise FormError("addtopic.bad_line", line=line.strip())
        queries[found.group(1).lower()] = found.group(2)
    if not queries:
        raise FormError("addtopic.usage")
    return TopicForm(name, title, queries)


def query_errors(queries: dict[str, str]) -> dict[str, str]:
    """Language -> the parser's own message, for every refused query."""
    errors = {}
    for language, text in queries.items():
        try:
            parse_query(text, language)
        except QueryError as exc:
            errors[language] = str(exc)
    return errors


@dataclass(frozen=True)
class FilledQuery:
    """One language of a new topic: as written, translated, or left empty with why."""

    language: str
    query: str | None
    source: str | None = None  # the language it was translated from
    error: str | None = None  # why it is missing (or the refused translation in `query`)


async def fill_languages(translator: Translator | None,
                         queries: dict[str, str]) -> list[FilledQuery]:
    """Every language in order; a left-out one is the translation of one given query.

    English is the preferred source: it is what the providers translate best.
    """
    source = next(lang for lang in ("en", *LANGUAGES) if lang in queries)
    filled = []
    for language in LANGUAGES:
        if language in queries:
            filled.append(FilledQuery(language, queries[language]))
        else:
            filled.append(await _translate(translator, queries[source], source, language))
    return filled


async def _translate(translator: Translator | None, text: str, source: str,
                     target: str) -> FilledQuery:
    from bot.translation.service import TranslationUnavailable

    if translator is None:
        return FilledQuery(target, None, source, error="translation is off")
    try:
        translated = await translator.translate_query(text, source, target)
    except TranslationUnavailable as exc:
        return FilledQuery(target, None, source, error=str(exc))
    except Exception as exc:  # a translator bug must not lose the admin's topic
        log.exception("translating query %r %s->%s failed", text, source, target)
        return FilledQuery(target, None, source, error=type(exc).__name__)
    try:
        parse_query(translated, target)
    except QueryError as exc:
        return FilledQuery(target, translated, source, error=str(exc))
    return FilledQuery(target, translated, source)


def topic_from(form: TopicForm, filled: list[FilledQuery],
               titles: dict[str, str] | None = None) -> Topic:
    """The topic to store: the given and the validly translated queries, and its titles."""
    queries = {f.language: f.query for f in filled if f.query is not None and f.error is None}
    return Topic(form.name, form.title, queries, dict(titles or {}))


async def translate_title(translator: Translator | None, title: str,
                          source: str) -> dict[str, str]:
    """The title as written (in `source`, the admin's language) and in every other
    language it could be translated into; a language that failed is left out."""
    titles = {source: title}
    if translator is None:
        return titles
    for language in LANGUAGES:
        if language == source:
            continue
        try:
            translated = await translator.translate_entry(title, "", source, language)
        except Exception:  # the translator promises not to raise; the topic matters more
            log.exception("translating title %r %s->%s failed", title, source, language)
            continue
        if translated.translated and translated.title.strip():
            titles[language] = translated.title.strip()
    return titles


def try_topic(topic: Topic, text: str) -> dict[str, tuple[str, ...] | QueryError | None]:
    """Language -> the terms TEXT matches on, None if that language's query does not
    match, or the QueryError of a stored query the parser now refuses."""
    found: dict[str, tuple[str, ...] | QueryError | None] = {}
    for language, query in sorted(topic.queries.items()):
        try:
            index = compile_topics([TopicQuery(topic.name, language, query)])
        except QueryError as error:
            found[language] = error
            continue
        matches = index.match(text, "", language)
        found[language] = matches[0].terms if matches else None
    return found
