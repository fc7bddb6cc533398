"""Dates, times, durations and numbers as each chat language writes them (Babel's data),
and the surge line that uses them: pure functions, plain inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.digests.render import render_surge
from bot.locale_format import (
    format_clock,
    format_day,
    format_duration,
    format_elapsed,
    format_moment,
    format_number,
    zone_or_utc,
)

MOSCOW = ZoneInfo("Europe/Moscow")
NOON = datetime(2026, 11, 29, 12, 5, tzinfo=UTC)


def test_a_moment_is_written_in_the_chats_zone_and_language():
    assert format_moment(NOON, ZoneInfo("America/New_York"), "en") == "Nov 29, 2026, 07:05 EST"
    assert format_moment(NOON, ZoneInfo("Europe/Paris"), "fr") == "29 nov. 2026, 13:05 CET"
    assert format_moment(NOON.timestamp(), MOSCOW, "ru") == "29 нояб. 2026\u202fг., 15:05 MSK"
    assert format_moment(NOON.replace(tzinfo=None), zone_or_utc("Nowhere/Atlantis"),
                         "en") == "Nov 29, 2026, 12:05 UTC"


def test_days_and_hours_are_labelled_as_each_language_writes_them():
    assert [format_day(date(2026, 3, 6), lang) for lang in ("en", "fr", "ru")] == [
        "Mar 6", "6 mars", "6 мар."]
    assert format_day(date(2026, 3, 6), "en", year=True) == "Mar 6, 2026"
    # 22:00 UTC is already the next day's 01:00 in Moscow
    assert format_clock(datetime(2026, 3, 5, 22, tzinfo=UTC), MOSCOW, "ru") == "01:00"


def test_durations_read_as_words_never_as_fractions_of_an_hour():
    assert [format_duration(600, lang) for lang in ("en", "fr", "ru")] == [
        "10 minutes", "10 minutes", "10 минут"]
    assert [format_duration(5400, lang) for lang in ("en", "fr", "ru")] == [
        "1.5 hours", "1,5\u00a0heure", "1,5 часа"]
    assert format_duration(7200, "ru") == "2 часа" and format_duration(7 * 86400, "en") == \
        "7 days"
    assert format_duration(4000, "fr") == "66,7 minutes"  # not a whole unit: a tenth of one
    assert format_elapsed(25 * 3600 + 200, "en") == "25 hours"
    assert format_elapsed(8 * 86400 - 3000, "ru") == "8 дней"
    assert format_elapsed(30, "fr") == "1 minute"


def test_numbers_take_the_languages_separators():
    assert [format_number(12345, lang) for lang in ("en", "fr", "ru")] == [
        "12,345", "12\u202f345", "12\u00a0345"]
    assert [format_number(4.5, lang) for lang in ("en", "fr", "ru")] == ["4.5", "4,5", "4,5"]
    assert format_number(12.0, "fr") == "12" and format_number(1 / 6, "ru") == "0,2"


def test_a_surge_in_french_and_russian_has_a_decimal_comma_and_a_duration_in_words():
    french = render_surge("fr", "Orechnik", 6, 600.0, 2, 4.5)
    assert french == ("📈 Orechnik\u00a0: 6 articles en 10 minutes dans 2 langues, "
                      "4,5× le rythme des 7 derniers jours")
    russian = render_surge("ru", "Орешник", 6, 600.0, 2, 4.5)
    assert russian == "📈 Орешник: 6 материалов за 10 минут на 2 языках, 4,5× от среднего за 7 дней"
    assert "0.166667" not in french + russian
    english = render_surge("en", "Oreshnik", 6, 600.0, 2, None)
    assert english == "📈 Oreshnik: 6 entries in 10 minutes across 2 languages, none in the 7 days before"


def test_a_topic_title_ending_in_a_colon_gets_no_second_one():
    assert render_surge("fr", "Orechnik :", 6, 7200.0, 1, 4.0).startswith(
        "📈 Orechnik\u00a0: 6 articles en 2\u00a0heures")
    assert render_surge("ru", "Орешник:", 6, 7200.0, 1, 4.0).startswith("📈 Орешник: 6 ")
