"""Surge alerts end to end: entries through the real match stage, /surges through the real
bot, alerts sent through python-telegram-bot to the fake Bot API on a test clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Bot

from bot.alerts.senders import TelegramSender
from bot.config import FeedConfig, SurgesConfig
from bot.matching.stage import MatchStage
from bot.model import Entry, Topic
from bot.store.entries import remember_entries
from bot.store.feeds import get_feed_by_url, sync_config_feeds
from bot.store.topics import add_topic
from tests.fakes.notices import SendingNotices, sending_notices
from tests.fakes.telegram_app import running_bot

ON, OFF, OTHER = 5001, 5002, 5003
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
async def world(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_topic(bot.db, Topic("oreshnik", "Oreshnik", {"fr": "orechnik",
                                                                "en": "oreshnik"}))
        await add_topic(bot.db, Topic("weather", "Weather", {"fr": "météo"}))
        await sync_config_feeds(bot.db, [
            FeedConfig(url="https://lemonde.example/rss", language="fr", name="Le Monde"),
            FeedConfig(url="https://bbc.example/rss", language="en", name="BBC")])
        await bot.ask("/subscribe oreshnik", chat_id=ON)
        await bot.ask("/subscribe oreshnik", chat_id=OFF)
        assert (await bot.ask("/surges off", chat_id=OFF)).startswith("Surge alerts are off")
        await bot.ask("/subscribe weather", chat_id=OTHER)
        yield bot


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def poll(db, url: str, language: str, titles: list[str], now: float,
               baseline: bool = False) -> None:
    """What the poller does with a fetched document: remember, then match what is new."""
    feed = await get_feed_by_url(db, url)
    published = datetime.fromtimestamp(now, UTC)
    entries = [Entry(key=f"{url}#{title}", link=f"{url}/{abs(hash(title))}", title=title,
                     summary="", published=published, language=language) for title in titles]
    new = await remember_entries(db, feed, entries, now, baseline=baseline)
    stage = await MatchStage.load(db)
    await stage.on_new_entries(feed, new, now=now)


def service_for(bot, clock: Clock) -> tuple[SendingNotices, Bot]:
    telegram = Bot(bot.api.token, base_url=bot.api.base_url)
    sender = TelegramSender(telegram)
    rule = SurgesConfig(window=7200.0, min_entries=5, factor=4.0)
    service = sending_notices(bot.db, sender,
                            surges=rule, clock=clock)
    return service, telegram


def surge_texts(bot, chat_id: int) -> list[str]:
    return [m.text for m in bot.api.sent_to(chat_id) if "entries in 2 h" in m.text]


async def test_a_burst_alerts_chats_with_surges_on_once_a_day(world):
    clock = Clock(NOON)
    service, telegram = service_for(world, clock)
    async with telegram:
        await poll(world.db, "https://lemonde.example/rss", "fr",
                   [f"Orechnik : épisode {n}" for n in range(3)], NOON - 1800)
        await poll(world.db, "https://bbc.example/rss", "en",
                   [f"Oreshnik strike, part {n}" for n in range(3)], NOON - 600)
        await service.tick()
        assert surge_texts(world, ON) == [
            "📈 Oreshnik: 6 entries in 2 h across 2 languages, none in the 7 days before"]
        assert surge_texts(world, OFF) == []
        assert surge_texts(world, OTHER) == []  # not subscribed to the topic
        # still surging an hour later, with more: not again that day
        clock.now = NOON + 3600
        await poll(world.db, "https://bbc.example/rss", "en",
                   [f"Oreshnik aftermath {n}" for n in range(6)], clock.now - 60)
        await service.tick()
        assert len(surge_texts(world, ON)) == 1


async def test_a_new_feeds_first_poll_is_no_surge(world):
    clock = Clock(NOON)
    service, telegram = service_for(world, clock)
    async with telegram:
        # a feed's first poll only records what it already had: no matches, no surge
        await poll(world.db, "https://lemonde.example/rss", "fr",
                   [f"Orechnik : archive {n}" for n in range(20)], NOON - 60, baseline=True)
        await service.tick()
    assert (await world.db.fetchone("SELECT COUNT(*) FROM matches"))[0] == 0
    assert surge_texts(world, ON) == []


async def test_a_steady_topic_needs_factor_times_its_7_day_rate(world):
    clock = Clock(NOON)
    service, telegram = service_for(world, clock)
    async with telegram:
        # 84 entries over the previous week: 1 per 2 hours; 6 now is 6x that
        for n in range(84):
            await poll(world.db, "https://bbc.example/rss", "en", [f"Oreshnik daily {n}"],
                       NOON - 7200 - (n + 1) * 7200)
        await poll(world.db, "https://bbc.example/rss", "en",
                   [f"Oreshnik burst {n}" for n in range(6)], NOON - 60)
        await service.tick()
    assert surge_texts(world, ON) == [
        "📈 Oreshnik: 6 entries in 2 h across 1 language, 6× the 7-day rate"]
