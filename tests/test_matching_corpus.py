"""Matching over every entry of the shared fr/en/ru corpus (skipped without it)."""

import re
from pathlib import Path

import pytest

from bot.matching.index import TopicQuery, compile_topics
from bot.matching.reference import ReferenceMatcher

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"

QUERIES = {
    "en": [
        "ukraine",
        "russia* -putin",
        '"prime minister"',
        "(police OR officers) AND shot*",
        "trump OR obama",
        "north-korea",
        "europ* AND (union OR brexit)",
        "kill AND NOT (police OR army)",
        "world's",
        "“prime minister” -«brexit»",
        "ukraine -“prime minister”",
    ],
    "fr": [
        "ukraine",
        "europ*",
        '"droits des femmes"',
        "(policier OR gendarme) AND garde",
        "macron -fillon",
        "etats-unis",
        "l'espace",
        "or",
        "mort* AND NOT (trump OR obama)",
        "«droits des femmes» OR „etats unis“",
        "europ* -«union europeenne»",
        "lʼespace",
    ],
    "ru": [
        "украина",
        "украин*",
        "зеленский AND (политика OR газ)",
        '"внешней политике"',
        "ёлка OR елка",
        "санкт-петербург",
        "россия -путин",
        "и AND газ",
        "ковид* OR covid",
        "«внешней политике» OR -„россия“ путин",
    ],
}


@pytest.fixture(scope="module")
def entries():
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    feedparser = pytest.importorskip("feedparser")
    found = []
    for language in QUERIES:
        for path in sorted((CORPUS / "feeds" / language).glob("*.xml")):
            for item in feedparser.parse(str(path)).entries:
                found.append((item.get("title", ""), item.get("summary", ""), language))
    return found


def test_index_agrees_with_the_reference_on_every_corpus_entry(entries):
    topics = [
        TopicQuery(f"{language}-{n}", language, query)
        for language, queries in QUERIES.items()
        for n, query in enumerate(queries)
    ]
    index, reference = compile_topics(topics), ReferenceMatcher(topics)
    total = 0
    for title, summary, language in entries:
        found = index.match(title, summary, language)
        assert found == reference.match(title, summary, language), title
        total += len(found)
    assert total > 100  # the queries are not vacuous on this corpus


def test_every_russian_headline_naming_ukraine_in_any_case_matches(entries):
    inflected = re.compile(r"\bУкраин(а|ы|е|у|ой)\b")
    index = compile_topics([TopicQuery("ua", "ru", "украина")])
    titles = [
        title for title, _, language in entries if language == "ru" and inflected.search(title)
    ]
    assert len(titles) >= 5
    for title in titles:
        assert index.match(title, "", "ru"), title


def test_no_english_headline_matches_a_word_only_inside_another(entries):
    index = compile_topics([TopicQuery("uk", "en", "uk"), TopicQuery("war", "en", "war")])
    for title, _, language in entries:
        if language != "en":
            continue
        words = set(re.findall(r"[a-z0-9]+", title.lower()))
        for match in index.match(title, "", "en"):
            assert any(word.startswith(match.topic) for word in words), title
            # "ukraine" or "warns" alone must never count as "uk" / "war".
            assert match.topic in words or f"{match.topic}s" in words, title
