"""The alert layout in each chat language, pinned by golden files (reviewed, then kept),
and the layout's invariants over every fr/en/ru entry of the shared corpus."""

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.alerts.render import render_alert, view_from
from bot.feeds.parse import ParseError, parse_entries
from bot.matching.found import found_words
from bot.shown_time import format_time
from tests.fakes.bot_api import parse_telegram_html, telegram_length

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
PUBLISHED = datetime(2026, 11, 21, 9, 41, tzinfo=UTC)

# Short entries written for these files, one per source language.
CASES = {
    # a French entry, translated for an English chat in New York
    "fr_to_en": dict(
        entry_title="Ukraine : Paris n'exclut pas l'envoi de troupes, « rien ne doit être exclu »",
        entry_summary="Le président a répété que l'envoi de troupes occidentales en Ukraine "
                      "n'était pas exclu & que l'OTAN <en> débattrait.",
        source="fr", target="en", zone="America/New_York",
        translated_title="Ukraine: Paris does not rule out sending troops, 'nothing is ruled out'",
        translated_summary="The president repeated that sending Western troops to Ukraine "
                           "was not ruled out & that NATO <would> debate it.",
        terms=("troupes", "ukraine", "occidental*"), outlet="Le Monde · International",
        topics=("Western troops in Ukraine",), seen=False),
    # an English entry, translated for a French chat in Paris, matched by two topics
    "en_to_fr": dict(
        entry_title="Storm Shadow missiles hit targets in Russia's Kursk region",
        entry_summary="Britain's Storm Shadow cruise missiles were used for the first time; "
                      "officials say ATACMS strikes continued.",
        source="en", target="fr", zone="Europe/Paris",
        translated_title="Des missiles Storm Shadow frappent des cibles dans la région de Koursk",
        translated_summary="Les missiles de croisière britanniques Storm Shadow ont été utilisés "
                           "pour la première fois ; des frappes ATACMS ont continué, selon des "
                           "responsables.",
        terms=('"storm shadow"', "atacms"), outlet="BBC News · World",
        topics=("Frappes Storm Shadow / SCALP-EG / ATACMS", "Missiles à longue portée"),
        seen=False),
    # a Russian entry for a Russian chat in Moscow: nothing translated; no date in the feed
    "ru_to_ru": dict(
        entry_title="Путин заявил о серийном производстве «Орешника»",
        entry_summary="Президент сообщил, что ракетный комплекс «Орешник» поставят "
                      "на боевое дежурство.",
        source="ru", target="ru", zone="Europe/Moscow", translated_title=None,
        translated_summary=None, terms=("орешник",), outlet="ТАСС",
        topics=("Ракета «Орешник»",), seen=True),
}


def _render(case: dict) -> str:
    translated = case["translated_title"] is not None
    words = found_words((case["entry_title"], case["entry_summary"]), case["terms"],
                        case["source"])
    view = view_from(
        topic_titles=case["topics"], outlet=case["outlet"], source_language=case["source"],
        target_language=case["target"],
        title=case["translated_title"] if translated else case["entry_title"],
        original_title=case["entry_title"] if translated else "",
        summary=case["translated_summary"] if translated else case["entry_summary"],
        link="https://example.org/2026/11/21/article?id=7&x=1",
        when=format_time(PUBLISHED, case["zone"], case["target"], seen=case["seen"]),
        words=words, translated=translated)
    return render_alert(view)


@pytest.mark.parametrize("name", sorted(CASES))
def test_alert_layout_matches_its_golden_file(name):
    markup = _render(CASES[name])
    path = GOLDEN / f"alert_{name}.html"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(markup + "\n", encoding="utf-8")
    assert markup + "\n" == path.read_text(encoding="utf-8")
    assert telegram_length(parse_telegram_html(markup)) <= 4096


# An entity or a tag cut by a highlight: "&am<b>p;", "<<b>b>", "<a hr<b>ef".
_SPLIT = re.compile(r"&[#\w]*<b>|&[#\w]*</b>|<[^<>]*<")


def _corpus_entries():
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    now = datetime(2026, 11, 29, tzinfo=UTC)
    for language in ("fr", "en", "ru"):
        for path in sorted((CORPUS / "feeds" / language).iterdir()):
            try:
                yield from parse_entries(path.read_bytes(), None, language, now, "")
            except ParseError:
                continue


# Broad terms, so that many corpus entries get highlights.
TERMS = {"fr": ("le", "la", "de*", "france", '"l ukraine"', "amp", "lt"),
         "en": ("the", "a", "of*", "ukraine", '"new york"', "amp", "quot"),
         "ru": ("в", "на", "украин*", "россия", "amp")}


def test_every_corpus_entry_renders_valid_within_limit_without_split_entities():
    count = 0
    for entry in _corpus_entries():
        words = found_words((entry.title, entry.summary), TERMS[entry.language], entry.language)
        for target in ("en", "fr", "ru"):
            translated = target != entry.language
            markup = render_alert(view_from(
                topic_titles=("Topic", "Другая тема"), outlet="Outlet & Co <1>",
                source_language=entry.language, target_language=target,
                title=entry.title, original_title=entry.title if translated else "",
                summary=entry.summary, link=entry.link,
                when=format_time(entry.published, "Europe/Paris", target),
                words=words, translated=translated))
            plain = parse_telegram_html(markup)
            assert telegram_length(plain) <= 4096
            assert not _SPLIT.search(markup), markup
            count += 1
    assert count > 2000 * 3
