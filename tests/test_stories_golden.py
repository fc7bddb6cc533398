"""A grown story message in each chat language, pinned by golden files (reviewed, then
kept): the alert, then 'Also covered by' with linked titles, newest last, dated when not
today, and the count; and one at Telegram's 4096 with its oldest lines folded."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.render import render_alert, view_from
from bot.message_text import strip_html
from bot.shown_time import format_time
from bot.stories.render import MAX_ENTITIES, CoverageItem, grown_alert
from tests.fakes.bot_api import parse_telegram_html, telegram_length

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
STORY = 314
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC).timestamp()
FIRST = datetime(2026, 11, 21, 21, 41, tzinfo=UTC)

# (outlet, language, minutes after FIRST, title in the chat's language, link) per chat language
LINES = {
    "en": [("Le Monde", "fr", 0, "SCALP-EG missile strike on an arsenal in Bryansk",
            "https://www.lemonde.fr/international/article/2026/11/21/frappe-briansk_1.html"),
           ("ТАСС", "ru", 150, "Ukrainian forces fired 12 Storm Shadow missiles at Bryansk",
            "https://tass.ru/armiya-i-opk/2611211"),
           ("France 24", "fr", 720, "Bryansk: Kyiv claims a strike on an arsenal & a depot",
            "https://www.france24.com/fr/europe/20261122-briansk?a=1&b=2")],
    "fr": [("BBC News", "en", 0, "L'Ukraine tire 12 missiles Storm Shadow sur un arsenal de "
            "Briansk", "https://www.bbc.co.uk/news/world-europe-1"),
           ("ТАСС", "ru", 150, "Les forces ukrainiennes ont tiré 12 missiles sur Briansk",
            "https://tass.ru/armiya-i-opk/2611211"),
           ("Reuters", "en", 720, "« Nous avons frappé l'arsenal » : Kyiv revendique la frappe",
            "https://www.reuters.com/world/europe/ukraine-bryansk-2026-11-22/")],
    "ru": [("Le Monde", "fr", 0, "Удар ракетами SCALP-EG по арсеналу в Брянске",
            "https://www.lemonde.fr/international/article/2026/11/21/frappe-briansk_1.html"),
           ("BBC News", "en", 150, "Украина выпустила 12 ракет Storm Shadow по Брянску",
            "https://www.bbc.co.uk/news/world-europe-1"),
           ("РИА Новости", "ru", 720, "Арсенал в Брянской области атакован <ночью>",
            "https://ria.ru/20261122/bryansk.html")],
}
ALERTS = {  # the story message's own entry, already in the chat's language
    "en": dict(topics=("Long-range strikes", "Bryansk"), outlet="BBC News", source="en",
               title="Ukraine fires 12 Storm Shadow missiles at Bryansk arsenal",
               summary="Kyiv says the Anglo-French missiles hit an arsenal overnight.",
               zone="Europe/London"),
    "fr": dict(topics=("Frappes à longue portée",), outlet="Le Monde", source="fr",
               title="Frappe de missiles SCALP-EG sur un arsenal de Briansk",
               summary="L'Ukraine a tiré 12 missiles franco-britanniques, selon Kiev.",
               zone="Europe/Paris"),
    "ru": dict(topics=("Удары дальнобойными ракетами",), outlet="ТАСС", source="ru",
               title="ВСУ выпустили 12 ракет Storm Shadow по арсеналу в Брянске",
               summary="Украина атаковала арсенал англо-французскими ракетами.",
               zone="Europe/Moscow"),
}


def _alert(lang: str) -> str:
    case = ALERTS[lang]
    return render_alert(view_from(
        topic_titles=case["topics"], outlet=case["outlet"], source_language=case["source"],
        target_language=lang, title=case["title"], summary=case["summary"],
        link="https://example.org/2026/11/21/strike?id=7&x=1",
        when=format_time(FIRST, case["zone"], lang), words=("Storm Shadow", "SCALP-EG")))


def _items(lang: str, lines) -> list[CoverageItem]:
    return [CoverageItem(outlet, language, FIRST.timestamp() + minutes * 60, title, link)
            for outlet, language, minutes, title, link in lines]


def _grown(lang: str, lines) -> str:
    alert = _alert(lang)
    own = CoverageItem(ALERTS[lang]["outlet"], ALERTS[lang]["source"], FIRST.timestamp())
    others = _items(lang, lines)
    grown = grown_alert(alert, strip_html(alert), others, [own, *others], STORY, lang,
                        ZoneInfo(ALERTS[lang]["zone"]), NOW)
    assert grown is not None
    return grown


def _check_golden(name: str, markup: str) -> None:
    path = GOLDEN / f"story_{name}.html"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(markup + "\n", encoding="utf-8")
    assert markup + "\n" == path.read_text(encoding="utf-8")
    assert telegram_length(parse_telegram_html(markup)) <= 4096


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
def test_a_grown_story_message_matches_its_golden_file(lang):
    # listed oldest first on purpose: the lines come newest last whatever the order given
    _check_golden(f"grown_{lang}", _grown(lang, list(reversed(LINES[lang]))))


def test_a_story_at_telegrams_limit_folds_its_oldest_lines_into_more():
    lines = [(f"Outlet {n:03}", "en", n, f"Ukraine strike on Bryansk arsenal: update {n:03} "
              + "with more detail " * 6, f"https://outlet{n:03}.example/news/{n}")
             for n in range(120)]
    markup = _grown("en", lines)
    _check_golden("at_limit_en", markup)
    plain = parse_telegram_html(markup)
    assert 4096 - 200 < telegram_length(plain) <= 4096  # filled, not over
    more = [line for line in plain.splitlines() if line.startswith("+")]
    shown = plain.count(" — Outlet ")
    assert more == [f"+{120 - shown} more: /story {STORY}"]
    assert "update 119" in plain and "update 000" not in plain
    assert markup.count("<") // 2 <= MAX_ENTITIES  # Telegram drops entities past 100
