"""/trend end to end: the real bot draws a PNG in a worker thread and sends it with
sendPhoto to the fake Bot API; other commands are answered while a chart is drawing."""

from __future__ import annotations

import asyncio
import struct
import threading
import time
from datetime import date

import pytest

from bot.digests.chart import ChartPool, draw_trend
from bot.store import outbox
from bot.telegram.digest_commands import trend_chart
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


def test_the_chart_counts_each_language_per_day():
    rows = [("2026-03-01", "en", 3), ("2026-03-02", "ru", 4), ("2026-03-02", "fr", 2),
            ("2026-02-01", "en", 9)]  # outside the span: ignored
    chart = trend_chart("fr", "Orechnik", date(2026, 3, 1), 7, rows)
    assert chart.counts == {"en": [3, 0, 0, 0, 0, 0, 0], "fr": [0, 2, 0, 0, 0, 0, 0],
                            "ru": [0, 4, 0, 0, 0, 0, 0]}
    assert chart.title.startswith("Orechnik\u00a0: articles correspondants par jour")
    assert chart.legend["ru"] == "russe" or chart.legend["ru"].lower().startswith("russe")
    assert len(chart.days) == 7 and chart.days[-1] == date(2026, 3, 7)


async def test_bad_arguments_get_the_usage_and_unknown_topics_say_so(world):
    assert (await world.ask("/trend")).startswith("Usage: /trend")
    assert (await world.ask("/trend oreshnik 90d")).startswith("Usage: /trend")
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
