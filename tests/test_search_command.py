"""/search over stored entries, end to end through python-telegram-bot, the fake Bot API
and the fake LibreTranslate: a query in the chat's language finds the other languages'
entries, grouped by story, titles in the chat's language as links."""

import pytest

from bot.i18n import plural, t
from bot.matching.search import group_by_story, search_entries
from bot.model import SearchableEntry
from bot.telegram.search_commands import query_language, read_search
from tests.fakes.bot_api import parse_telegram_html
from tests.fakes.newsroom import newsroom_bot, store_oreshnik_entries
from tests.fakes.telegram_app import running_bot

# What a reader of each UI language types, and the titles they should see as links.
SEARCHES = {
    "en": ("oreshnik", {
        "https://0.example/a?id=0&amp;x=1": "Russia fires Oreshnik missile at Dnipro",
        "https://1.example/a?id=1&amp;x=1": "The Oreshnik missile hits Dnipro",
        "https://2.example/a?id=2&amp;x=1": "The Oreshnik missile hit a target in Dnipro"}),
    "fr": ("missile orechnik", {
        "https://0.example/a?id=0&amp;x=1": "La Russie tire un missile Orechnik sur Dnipro",
        "https://1.example/a?id=1&amp;x=1": "Le missile Orechnik frappe Dnipro",
        "https://2.example/a?id=2&amp;x=1": "Le missile Orechnik a frappé une cible à Dnipro"}),
    "ru": ("орешник", {
        "https://0.example/a?id=0&amp;x=1": "Россия выпустила ракету «Орешник» по Днепру",
        "https://1.example/a?id=1&amp;x=1": "Ракета «Орешник» поражает Днепр",
        "https://2.example/a?id=2&amp;x=1": "Ракета «Орешник» поразила цель в Днепре"}),
}


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
async def test_a_query_finds_the_entries_of_every_language_grouped_by_story(
        tmp_path, monkeypatch, lang):
    query, links = SEARCHES[lang]
    async with newsroom_bot(tmp_path, monkeypatch) as bot:
        await store_oreshnik_entries(bot.db)
        sent = (await bot.send(f"/search {query}", language_code=lang))[-1]
        assert sent.parse_mode == "HTML"
        html = sent.text
        for link, title in links.items():
            assert f'<a href="{link}">{title}</a>' in html, (title, html)
        assert "européens" not in html  # the entry that is not about it
        plain = parse_telegram_html(html)
        story = t(lang, "search.story", id=1)  # the three joined the first story
        assert plain.splitlines()[0] == t(
            lang, "search.header", query=query, days=plural(lang, "search.days", 7),
            found=plural(lang, "search.entries", 3), stories=plural(lang, "search.stories", 1))
        assert story in plain
        # newest first: the Russian entry was published last
        assert plain.index(links["https://2.example/a?id=2&amp;x=1"]) \
            < plain.index(links["https://1.example/a?id=1&amp;x=1"]) \
            < plain.index(links["https://0.example/a?id=0&amp;x=1"])


async def test_without_a_translator_the_other_languages_are_named_as_not_searched(tmp_path):
    async with running_bot(tmp_path) as bot:
        await store_oreshnik_entries(bot.db)
        html = (await bot.send("/search oreshnik"))[-1].text
        assert '<a href="https://0.example/a?id=0&amp;x=1">' in html
        assert "Orechnik frappe" not in html  # no French query, no French entry
        assert "fr: not searched (translation is off)" in html
        assert "ru: not searched (translation is off)" in html


async def test_bad_searches_get_one_clear_line(tmp_path):
    async with running_bot(tmp_path) as bot:
        await store_oreshnik_entries(bot.db)
        assert await bot.ask("/search") == t("en", "search.usage", days=7)
        assert await bot.ask("/search 3d") == t("en", "search.usage", days=7)
        assert (await bot.ask('/search "storm')).startswith("Query refused: ")
        assert (await bot.ask("/search NOT oreshnik")).startswith("Query refused: ")
        nothing = await bot.ask("/search kalibr 2d")
        assert nothing.splitlines()[0] == t("en", "search.none", query="kalibr",
                                            days=plural("en", "search.days", 2))


def test_days_are_read_from_the_last_word_and_kept_within_the_retention():
    assert read_search(["oreshnik"], 30) == ("oreshnik", 7)
    assert read_search(["storm", "shadow", "3d"], 30) == ("storm shadow", 3)
    assert read_search(["oreshnik", "400d"], 30) == ("oreshnik", 30)
    assert read_search(["oreshnik", "0d"], 30) is None
    assert read_search(["3d"], 30) is None and read_search([], 30) is None


def test_the_query_language_follows_the_script_then_the_chat():
    assert query_language("орешник", "en") == "ru"
    assert query_language("orechnik", "fr") == "fr"
    assert query_language("oreshnik", "ru") == "en"


def _entry(id, language, title, published, outlet="X"):
    return SearchableEntry(id, language, title, "", f"https://e/{id}", outlet, published)


def test_groups_are_stories_newest_first_and_lone_entries_stand_alone():
    found = [_entry(1, "en", "a", 100.0), _entry(2, "fr", "b", 300.0),
             _entry(3, "ru", "c", 200.0), _entry(4, "en", "d", 250.0)]
    groups = group_by_story(found, {1: 7, 3: 7, 2: 9})
    assert [(g.story_id, [e.id for e in g.entries]) for g in groups] == [
        (9, [2]), (None, [4]), (7, [3, 1])]


def test_each_language_is_searched_with_its_own_query():
    entries = [_entry(1, "en", "Oreshnik launched", 1.0), _entry(2, "fr", "Orechnik tiré", 2.0),
               _entry(3, "ru", "Запуск «Орешника»", 3.0), _entry(4, "fr", "Oreshnik", 4.0)]
    found = search_entries({"en": "oreshnik", "ru": "орешник", "fr": "orechnik"}, entries)
    assert [e.id for e in found] == [1, 2, 3]
