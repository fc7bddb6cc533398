"""Surge alerts end to end: entries through the real match stage, /surges through the real
bot, alerts sent through python-telegram-bot to the fake Bot API on a test clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Bot

from bot.alerts.senders import TelegramSender
from bot.config import FeedConfig, SurgesConfig
from bot.feeds.refresh import remember_entries
from bot.model import Entry, Topic
from bot.stages.match import MatchStage
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
    """What the poller and the match stage do with a fetched document: remember, then
    match what waits."""
    feed = await get_feed_by_url(db, url)
    published = datetime.fromtimestamp(now, UTC)
    entries = [Entry(key=f"{url}#{title}", link=f"{url}/{abs(hash(title))}", title=title,
                     summary="", published=published, language=language) for title in titles]
    await remember_entries(db, feed, entries, now, baseline=baseline)
    stage = await MatchStage.load(db)
    await stage.match_pending(now=now)


def service_for(bot, clock: Clock, window: float = 7200.0) -> tuple[SendingNotices, Bot]:
    telegram = Bot(bot.api.token, base_url=bot.api.base_url)
    sender = TelegramSender(telegram)
    rule = SurgesConfig(window=window, min_entries=5, factor=4.0)
    service = sending_notices(bot.db, sender,
                            surges=rule, clock=clock)
    return service, telegram


def surge_texts(bot, chat_id: int) -> list[str]:
    """Each surge alert's first line (its largest stories follow)."""
    return [m.text.split("\n")[0] for m in bot.api.sent_to(chat_id)
            if "entries in 2 hours" in m.text]


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
            "📈 Oreshnik: 6 entries in 2 hours across 2 languages, none in the 7 days before"]
        [alert] = [m.text for m in world.api.sent_to(ON) if "📈" in m.text]
        stories = alert.split("\n")[1:]  # the largest first, each linked with its /story id
        assert len(stories) == 2 and all(line.startswith("• <a href=\"https://") and
                                         "/story " in line for line in stories), stories
        assert "(3 entries)" in stories[0] and "(3 entries)" in stories[1]
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
        await a_steady_week_then_a_burst(world.db, 7200.0, 6)
        await service.tick()
    assert surge_texts(world, ON) == [
        "📈 Oreshnik: 6 entries in 2 hours across 1 language, 6× the 7-day rate"]


async def test_catching_up_after_downtime_is_no_surge(world):
    # Back after 16 hours down: the feed still lists what it published meanwhile, one
    # an hour. All of it is matched now, but it came out over 16 hours: no surge.
    clock = Clock(NOON)
    service, telegram = service_for(world, clock)
    feed = await get_feed_by_url(world.db, "https://bbc.example/rss")
    backlog = [Entry(key=f"late-{n}", link=f"https://bbc.example/late/{n}",
                     title=f"Oreshnik report {n}", summary="",
                     published=datetime.fromtimestamp(NOON - 3600 * (n + 1), UTC),
                     language="en") for n in range(16)]
    async with telegram:
        await remember_entries(world.db, feed, backlog, NOON, baseline=False)
        await (await MatchStage.load(world.db)).match_pending(now=NOON)
        await service.tick()
    assert (await world.db.fetchone("SELECT COUNT(*) FROM matches"))[0] == 16
    assert surge_texts(world, ON) == []


async def a_steady_week_then_a_burst(db, window: float, burst: int) -> None:
    """One entry every 2 hours over the week before the window, then `burst` entries."""
    for n in range(84):
        await poll(db, "https://bbc.example/rss", "en", [f"Oreshnik daily {n}"],
                   NOON - window - (n + 1) * 7200)
    await poll(db, "https://bbc.example/rss", "en",
               [f"Oreshnik burst {n}" for n in range(burst)], NOON - 60)


async def test_a_surge_reads_in_french_and_russian_with_a_decimal_comma(world):
    service, telegram = service_for(world, Clock(NOON), window=5400.0)  # an hour and a half
    await world.ask("/language ru", chat_id=ON)
    await world.ask("/language fr", chat_id=OFF)
    await world.ask("/surges on", chat_id=OFF)
    async with telegram:
        # 84 entries over the week before: 0.75 per 90 minutes; 7 now is 9.33 times that
        await a_steady_week_then_a_burst(world.db, 5400.0, 7)
        await service.tick()
    [russian] = [m.text for m in world.api.sent_to(ON) if "📈" in m.text]
    [french] = [m.text for m in world.api.sent_to(OFF) if "📈" in m.text]
    assert russian.split("\n")[0] == (
        "📈 Oreshnik: 7 материалов за 1,5 часа на 1 языке, 9,3× от среднего за 7 дней")
    assert french.split("\n")[0] == (
        "📈 Oreshnik\u00a0: 7 articles en 1,5\u00a0heure dans 1 langue, "
        "9,3× le rythme des 7 derniers jours")
    assert "::" not in russian and " : :" not in french
    stories = russian.split("\n")[1:]  # the largest first, counted in Russian
    assert 1 <= len(stories) <= 3 and all("/story " in line for line in stories)
    assert "материал" in stories[0] and "article" in french.split("\n")[1]
