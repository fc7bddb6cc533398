"""/trend end to end: the real bot draws a PNG in a worker thread and sends it with
sendPhoto to the fake Bot API; other commands are answered while a chart is drawing."""

from __future__ import annotations

import asyncio
import struct
import threading
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.digests.chart import ChartPool, draw_trend, tick_positions
from bot.digests.trend import count_slots, trend_caption, trend_chart, trend_span
from bot.store import outbox
from tests.fakes.alert_world import add_entry, add_feed, add_topic_named
from tests.fakes.telegram_app import USER, running_bot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
async def world(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_topic_named(bot.db, "oreshnik", "Oreshnik")
        await add_topic_named(bot.db, "quiet", "Nothing here")
        yield bot


async def add_matches(db, language: str, count: int, days_ago: float) -> None:
    feed = await add_feed(db, f"https://{language}{count}{days_ago}.example/rss", language,
                          f"Outlet {language}")
    for n in range(count):
        link = f"https://{language}.example/{days_ago}/{n}"
        entry = await add_entry(db, feed, link, f"Oreshnik {n}", "", language)
        await outbox.record_matches(db, entry, link, [("oreshnik", ["oreshnik"])],
                                    time.time() - days_ago * 86400)


async def photos_to(bot, chat_id: int, count: int):
    await bot.until(lambda: len([p for p in bot.api.photos if p.chat_id == chat_id]) >= count,
                    timeout=30)
    return [p for p in bot.api.photos if p.chat_id == chat_id]


async def test_trend_sends_a_png_chart_for_three_languages_and_for_an_empty_topic(world):
    await add_matches(world.db, "en", 3, 0)
    await add_matches(world.db, "fr", 2, 1)
    await add_matches(world.db, "ru", 4, 2)
    world.api.inject_message(USER, "private", None, "/trend oreshnik 30d")
    [photo] = await photos_to(world, USER, 1)
    width, height = png_size(photo.data)
    assert width >= 600 and height >= 300
    world.api.inject_message(USER, "private", None, "/trend quiet")
    empty = (await photos_to(world, USER, 2))[1]
    width, height = png_size(empty.data)
    assert width >= 600 and height >= 300
    assert empty.data != photo.data


MOSCOW = ZoneInfo("Europe/Moscow")
PARIS = ZoneInfo("Europe/Paris")


def at(zone, *parts) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()


def test_the_chart_counts_each_language_per_day_of_the_chat():
    span = trend_span("7d", at(PARIS, 2026, 3, 7, 15, 0), PARIS)
    published = [(at(PARIS, 2026, 3, 1, 9), "en")] * 3 + [(at(PARIS, 2026, 3, 2, 9), "ru")] * 4 \
        + [(at(PARIS, 2026, 3, 2, 23, 30), "fr")] * 2 + [(at(PARIS, 2026, 2, 1, 9), "en")] * 9
    counts = count_slots(span, published)  # the February ones are outside the span
    assert counts == {"en": [3, 0, 0, 0, 0, 0, 0], "fr": [0, 2, 0, 0, 0, 0, 0],
                      "ru": [0, 4, 0, 0, 0, 0, 0]}
    chart = trend_chart("fr", "Orechnik", span, "Europe/Paris", counts)
    assert chart.title.startswith("Orechnik\u00a0: articles correspondants par jour")
    assert chart.legend["ru"] == "russe" or chart.legend["ru"].lower().startswith("russe")
    assert chart.labels == ("1 mars", "2 mars", "3 mars", "4 mars", "5 mars", "6 mars",
                            "7 mars")
    assert chart.x_label == "Jour (Europe/Paris)"


def test_a_moscow_chat_counts_a_0100_entry_on_its_own_day():
    span = trend_span("7d", at(MOSCOW, 2026, 3, 7, 12, 0), MOSCOW)
    one_am = at(MOSCOW, 2026, 3, 6, 1, 0)  # 5 March, 22:00 in UTC
    assert datetime.fromtimestamp(one_am, UTC).day == 5
    counts = count_slots(span, [(one_am, "ru")])
    assert counts["ru"] == [0, 0, 0, 0, 0, 1, 0]
    chart = trend_chart("ru", "Орешник", span, "Europe/Moscow", counts)
    assert chart.labels[5] == "6 мар."
    assert chart.x_label == "День (Europe/Moscow)"


def test_24h_counts_per_hour_of_the_chats_clock_the_current_hour_last():
    span = trend_span("24h", at(MOSCOW, 2026, 3, 7, 12, 40), MOSCOW)
    counts = count_slots(span, [(at(MOSCOW, 2026, 3, 7, 12, 5), "en"),
                                (at(MOSCOW, 2026, 3, 6, 13, 0), "fr"),
                                (at(MOSCOW, 2026, 3, 6, 12, 59), "fr")])  # 24 h ago: out
    assert counts["en"][-1] == 1 and counts["fr"][0] == 1 and sum(counts["fr"]) == 1
    chart = trend_chart("en", "Oreshnik", span, "Europe/Moscow", counts)
    assert chart.labels[0] == "13:00" and chart.labels[-1] == "12:00" and len(chart.labels) == 24
    assert chart.title == "Oreshnik: matched entries per hour, last 24 hours"


def test_the_caption_gives_the_totals_per_language_in_the_chats_words():
    span = trend_span("30d", at(PARIS, 2026, 3, 30, 12), PARIS)
    counts = {"en": [1] * 30, "fr": [0] * 29 + [2], "ru": [0] * 30}
    assert trend_caption("en", "Oreshnik", span, "Europe/Paris", counts) == (
        "Oreshnik, last 30 days (Europe/Paris): 32 entries — English 30 · French 2")
    assert trend_caption("ru", "Орешник", span, "Europe/Moscow", counts) == (
        "Орешник, последние 30 дней (Europe/Moscow): 32 материала — английский 30 · "
        "французский 2")
    empty = {"en": [0] * 30, "fr": [0] * 30, "ru": [0] * 30}
    assert trend_caption("fr", "Orechnik", span, "Europe/Paris", empty) == (
        "Orechnik, 30 derniers jours (Europe/Paris)\u00a0: aucune correspondance")


def test_the_last_day_is_always_labelled():
    for slots in (7, 24, 30, 31, 1):
        ticks = tick_positions(slots)
        assert ticks[-1] == slots - 1 and len(ticks) <= 12 and ticks == sorted(set(ticks))
    assert tick_positions(7) == list(range(7))


async def test_trend_in_moscow_counts_a_0100_entry_on_its_own_day_and_captions_it(world):
    await world.ask("/timezone Europe/Moscow")
    now = at(MOSCOW, 2026, 3, 7, 12, 0)
    world.context.clock = lambda: now
    feed = await add_feed(world.db, "https://tass.example/rss", "ru", "TASS")
    entry = await add_entry(world.db, feed, "https://tass.example/1", "Орешник", "", "ru")
    one_am = at(MOSCOW, 2026, 3, 7, 1, 0)  # 6 March in UTC
    await world.db.execute("UPDATE entries SET published_at = ? WHERE id = ?", (one_am, entry))
    await outbox.record_matches(world.db, entry, "https://tass.example/1",
                                [("oreshnik", ["орешник"])], one_am + 60)
    world.api.inject_message(USER, "private", None, "/trend oreshnik")
    [photo] = await photos_to(world, USER, 1)
    assert photo.caption == ("Oreshnik, last 7 days (Europe/Moscow): 1 entry — Russian 1")
    rendered = []
    world.context.charts = ChartPool(draw=lambda chart: rendered.append(chart) or b"png")
    world.api.inject_message(USER, "private", None, "/trend oreshnik")
    await photos_to(world, USER, 2)
    [chart] = rendered
    assert chart.labels[-1] == "Mar 7" and chart.counts["ru"] == [0, 0, 0, 0, 0, 0, 1]


async def test_bad_arguments_get_the_usage_and_unknown_topics_say_so(world):
    assert (await world.ask("/trend")).startswith("Usage: /trend")
    assert (await world.ask("/trend oreshnik 90d")).startswith("Usage: /trend TOPIC [24h|7d|30d]")
    assert "nope" in await world.ask("/trend nope")


async def test_a_command_sent_while_a_chart_is_drawing_is_answered(world):
    drawing, release = threading.Event(), threading.Event()

    def slow_draw(chart):
        drawing.set()
        release.wait(10)
        return draw_trend(chart)

    world.context.charts = ChartPool(draw=slow_draw)
    world.api.inject_message(USER, "private", None, "/trend oreshnik")
    assert await asyncio.get_running_loop().run_in_executor(None, drawing.wait, 10)
    answer = await world.ask("/digest")  # answered while the chart is still being drawn
    assert answer.startswith("This chat gets instant alerts")
    assert world.api.photos == []
    release.set()
    await photos_to(world, USER, 1)
