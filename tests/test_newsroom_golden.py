"""The new screens in each UI language, pinned by golden files (reviewed, then kept):
/search's results, the guided /addtopic draft, /quiet's answers and /help's example.
UPDATE_GOLDEN=1 rewrites them."""

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.matching.search import StoryHits
from bot.model import SearchableEntry, Topic
from bot.store import chats, topics
from bot.telegram.search_commands import render_results
from tests.fakes.bot_api import parse_telegram_html, telegram_length
from tests.fakes.newsroom import newsroom_bot, store_oreshnik_entries
from tests.fakes.telegram_app import running_bot

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
LANGUAGES = ["en", "fr", "ru"]
ZONES = {"en": "America/New_York", "fr": "Europe/Paris", "ru": "Europe/Moscow"}
PUBLISHED = datetime(2026, 11, 21, 9, 41, tzinfo=UTC).timestamp()


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == path.read_text(encoding="utf-8")


def _entry(id, language, outlet, title, hours_before):
    host = outlet.lower().replace(" ", "-")
    return SearchableEntry(id, language, title, "", f"https://{host}.example/{id}?a=1&b=2",
                           outlet, PUBLISHED - hours_before * 3600)


# Titles as the chat's language shows them (translated where needed).
TITLES = {
    "en": {1: "Putin: Oreshnik in serial production", 2: "Oreshnik: what we know",
           3: "Oreshnik missile \"cannot be intercepted\"", 4: "Kyiv & <Oreshnik>"},
    "fr": {1: "Poutine : l'Orechnik en production de série", 2: "Orechnik : ce que l'on sait",
           3: "Le missile Orechnik « ne peut être intercepté »", 4: "Kiev & <Orechnik>"},
    "ru": {1: "Путин заявил о серийном производстве «Орешника»", 2: "«Орешник»: что известно",
           3: "Ракету «Орешник» «невозможно перехватить»", 4: "Киев & <Орешник>"},
}


def _groups():
    tass = _entry(1, "ru", "TASS", "Путин заявил о серийном производстве «Орешника»", 1)
    monde = _entry(2, "fr", "Le Monde", "Oreshnik : ce que l'on sait", 3)
    bbc = _entry(3, "en", "BBC", "Putin says Oreshnik missile \"cannot be intercepted\"", 5)
    kyiv = _entry(4, "en", "Kyiv Independent", "Kyiv & <Oreshnik>", 30)
    extra = tuple(_entry(10 + n, "fr", "RFI", f"Orechnik {n}", 6 + n) for n in range(3))
    return [StoryHits(12, (tass, monde, bbc, *extra)), StoryHits(None, (kyiv,))]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_search_results_match_their_golden_file(lang):
    html = render_results(_groups(), TITLES[lang], query="oreshnik", days=7, lang=lang,
                          zone=ZONES[lang])
    check(f"search_{lang}.html", html)
    assert telegram_length(parse_telegram_html(html)) <= 4096


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_guided_draft_matches_its_golden_file(tmp_path, monkeypatch, lang):
    words = {"en": "Oreshnik missile", "fr": "le missile Orechnik", "ru": "ракета Орешник"}
    async with newsroom_bot(tmp_path, monkeypatch, personal_topics=True) as bot:
        await store_oreshnik_entries(bot.db)
        draft = (await bot.send(f"/addtopic rocket {words[lang]}", language_code=lang))[-1]
    buttons = [b["text"] for row in draft.reply_markup["inline_keyboard"] for b in row]
    check(f"guided_draft_{lang}.txt", "\n".join([draft.text, "---", *buttons]))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_help_and_quiet_answers_match_their_golden_file(tmp_path, lang):
    async with running_bot(tmp_path, personal_topics=True) as bot:
        await topics.add_topic(bot.db, Topic("nato", "NATO", {"en": "nato"}))
        await topics.add_topic(bot.db, Topic(
            "oreshnik", "The Oreshnik missile", {"en": "oreshnik"},
            {"fr": "Le missile Orechnik", "ru": "Ракета «Орешник»"}))
        await chats.ensure_chat(bot.db, -5, "group", "", "en")
        await chats.subscribe(bot.db, -5, "oreshnik")  # the most followed: the example
        answers = [await bot.ask("/help", language_code=lang)]
        await bot.ask("/timezone Europe/Paris")
        for command in ("/quiet", "/quiet 22:00-07:00", "/quiet", "/quiet off", "/quiet 9"):
            answers.append(await bot.ask(command))
    check(f"help_quiet_{lang}.txt", "\n---\n".join(answers))
