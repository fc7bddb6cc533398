"""A chat that set no /timezone sees every time in bot.default_timezone, not in UTC:
the alert, the coverage lines its story adds and the reply that carries them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.store.chats import chat_timezone, ensure_chat, set_timezone, shown_timezone, subscribe
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.story_world import STRIKE_EN, STRIKE_FR, StoryWorld, teach_pivots

READER = 601
TOKYO = ZoneInfo("Asia/Tokyo")  # no daylight saving: the clock is UTC+9 all year


def test_a_chat_zone_is_its_own_else_the_bot_default():
    assert shown_timezone(None, "Europe/Paris") == "Europe/Paris"
    assert shown_timezone("", "Europe/Paris") == "Europe/Paris"
    assert shown_timezone("Asia/Tokyo", "Europe/Paris") == "Asia/Tokyo"


@pytest.fixture
async def world(tmp_path, monkeypatch):
    teach_pivots(monkeypatch)
    with FakeBotAPI() as api, FakeLibreTranslate() as libre:
        world = await StoryWorld(tmp_path, api, libre.url, default_timezone="Asia/Tokyo").start()
        await ensure_chat(world.db, READER, "private", "reader", "en")
        await subscribe(world.db, READER, "strikes")
        try:
            yield world
        finally:
            await world.stop()


async def _bbc_clock(world, zone: ZoneInfo = TOKYO) -> str:
    row = await world.db.fetchone(
        "SELECT e.published_at FROM entries e JOIN feeds f ON f.id = e.feed_id "
        "WHERE f.name = 'BBC'")
    return datetime.fromtimestamp(row[0], UTC).astimezone(zone).strftime("%H:%M")


async def test_coverage_lines_use_the_bot_default_zone_when_the_chat_set_none(world):
    assert await chat_timezone(world.db, READER, "Asia/Tokyo") == "Asia/Tokyo"
    await world.publish(STRIKE_FR)
    await world.deliver()
    [alert] = world.api.sent_to(READER)
    assert "JST" in alert.text  # the alert's own time
    await world.publish(STRIKE_EN)
    await world.deliver()
    shown = world.api.text_of(READER, alert.message_id)
    assert f"BBC (en) {await _bbc_clock(world)}" in shown


async def test_the_coverage_reply_uses_the_bot_default_zone_too(world):
    await world.publish(STRIKE_FR)
    await world.deliver()
    [alert] = world.api.sent_to(READER)
    world.api.delete_message(READER, alert.message_id)
    await world.publish(STRIKE_EN)
    await world.deliver()
    coverage = next(m.text for m in world.api.sent_to(READER) if "BBC (en)" in m.text)
    assert f"BBC (en) {await _bbc_clock(world)}" in coverage


async def test_a_zone_the_chat_set_wins_over_the_default(world):
    await set_timezone(world.db, READER, "America/New_York")
    await world.publish(STRIKE_FR)
    await world.deliver()
    await world.publish(STRIKE_EN)
    await world.deliver()
    [alert] = world.api.sent_to(READER)[:1]
    shown = world.api.text_of(READER, alert.message_id)
    clock = await _bbc_clock(world, ZoneInfo("America/New_York"))
    assert f"BBC (en) {clock}" in shown and "JST" not in shown
