"""Digests end to end: /digest through the real bot, matches recorded by the real ledger,
digests sent through python-telegram-bot to the fake Bot API, on a clock the test moves."""

from __future__ import annotations

import pytest
from telegram import Bot

from bot.alerts.senders import TelegramSender
from bot.config import SurgesConfig
from bot.store import digests, outbox
from bot.store.db import Database
from bot.store.stories import RecordedEntry, record_entry
from tests.fakes.alert_world import add_entry, add_feed, add_topic_named
from tests.fakes.notices import SendingNotices, sending_notices
from tests.fakes.telegram_app import USER, running_bot

T0 = 60 * 29_666_667 + 20.0  # 20 s into a minute


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def world(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_topic_named(bot.db, "troops", "Western troops in Ukraine")
        await bot.ask("/subscribe troops")
        yield bot


def notice_service(bot, db: Database, clock: Clock) -> tuple[SendingNotices, Bot]:
    telegram = Bot(bot.api.token, base_url=bot.api.base_url)
    sender = TelegramSender(telegram)
    service = sending_notices(db, sender,
                            surges=SurgesConfig(enabled=False), clock=clock, interval=0.05)
    return service, telegram


async def record(db: Database, feed_name: str, language: str, link: str, title: str,
                 now: float, story: int | None = None, topic: str = "troops") -> RecordedEntry:
    """An entry matched `topic`, joining `story` (as the cluster stage decides) or not."""
    row = await db.fetchone("SELECT id FROM feeds WHERE name = ?", (feed_name,))
    feed_id = row[0] if row else await add_feed(db, f"https://{feed_name}.example/rss",
                                                language, feed_name)
    entry = await add_entry(db, feed_id, link, title, "", language)
    return await record_entry(db, entry, link, [(topic, [topic])], now, story_id=story)


async def five_matches_in_three_stories(db: Database, now: float) -> None:
    first = await record(db, "lemonde", "fr", "https://x/a1", "Des troupes en Ukraine", now)
    await record(db, "bbc", "en", "https://x/a2", "Troops in Ukraine", now + 1, first.story_id)
    await record(db, "tass", "ru", "https://x/a3", "Войска на Украине", now + 2, first.story_id)
    await record(db, "rfi", "fr", "https://x/b1", "Les soldats", now + 3)
    await record(db, "bbc", "en", "https://x/c1", "Drones over Kyiv", now + 5)


async def test_every_1m_sends_one_digest_listing_the_stories_and_no_instant_alert(world):
    reply = await world.ask("/digest every 1m")
    assert "every 1m" in reply
    clock = Clock(T0)
    service, telegram = notice_service(world, world.db, clock)
    async with telegram:
        await five_matches_in_three_stories(world.db, T0)
        assert await outbox.queue_length(world.db) == 0  # nothing instant
        before = len(world.api.sent_to(USER))
        await service.tick()  # still inside the period
        assert len(world.api.sent_to(USER)) == before
        clock.now = T0 + 40  # the minute ends
        await service.tick()
        await service.tick()
        sent = world.api.sent_to(USER)[before:]
    assert len(sent) == 1, [m.text for m in sent]
    text = sent[0].text
    assert "3 stories" in text and "Western troops in Ukraine" in text
    assert text.count("• ") == 3
    # most covered first: the three-outlet story, then the newest of the others
    assert text.index("Des troupes") < text.index("Drones") < text.index("Les soldats")
    assert '<a href="https://x/a1">Des troupes en Ukraine</a> · /story ' in text
    assert "3 entries · lemonde, bbc, tass · fr · en · ru" in text


async def test_a_restart_at_the_period_end_still_sends_exactly_one_digest(world, tmp_path):
    await world.ask("/digest every 1m")
    await five_matches_in_three_stories(world.db, T0)
    clock = Clock(T0 + 40)
    before = len(world.api.sent_to(USER))
    # the first run writes the digest into the ledger and dies before sending it
    first, telegram = notice_service(world, world.db, clock)
    await first.write_digests(clock.now)
    # a second process on the same database file
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        second, telegram = notice_service(world, db, clock)
        async with telegram:
            await second.tick()
            await second.tick()
            third, _ = notice_service(world, db, clock)
            await third.tick()
    finally:
        await db.close()
    assert len(world.api.sent_to(USER)) == before + 1


async def test_an_empty_period_sends_nothing_and_off_resumes_instant_alerts(world):
    await world.ask("/digest hourly")
    clock = Clock(T0)
    service, telegram = notice_service(world, world.db, clock)
    async with telegram:
        before = len(world.api.sent_to(USER))
        clock.now = T0 + 7200
        await service.tick()
        assert len(world.api.sent_to(USER)) == before  # empty period: no message
        await record(world.db, "bbc", "en", "https://x/a", "Troops", clock.now)
        assert (await world.ask("/digest off")).startswith("Instant alerts are back")
        await service.tick()  # what waited goes out at once, not at the hour
        assert len(world.api.sent_to(USER)) == before + 2  # the reply and the digest
        assert "Troops" in world.api.sent_to(USER)[-1].text
        later = await record(world.db, "bbc", "en", "https://x/d", "Later", clock.now + 1)
    assert later.queued == 1  # instant again


async def test_digest_command_answers_usage_status_and_refuses_short_periods(world):
    assert (await world.ask("/digest")).startswith("This chat gets instant alerts")
    assert (await world.ask("/digest every 30s")).startswith("Usage: /digest")
    assert (await world.ask("/digest weekly")).startswith("Usage: /digest")
    reply = await world.ask("/digest daily")
    assert "a day at 08:00" in reply
    assert "a day at 08:00" in await world.ask("/digest")
    assert (await digests.settings(world.db, USER)).digest == "daily 08:00"


async def test_a_long_digest_is_split_past_4096_characters_and_sent_in_order(world):
    for n in range(6):
        await add_topic_named(world.db, f"topic{n}", f"Topic {n}")
        await world.ask(f"/subscribe topic{n}")
    await world.ask("/digest every 1m")
    for n in range(60):  # a topic lists 10 stories: six topics of ten
        await record(world.db, "bbc", "en", f"https://x/{n}", f"Story {n:02d} " + "w" * 150,
                     T0, topic=f"topic{n // 10}")
    clock = Clock(T0 + 40)
    service, telegram = notice_service(world, world.db, clock)
    before = len(world.api.sent_to(USER))
    async with telegram:
        await service.tick()
    sent = world.api.sent_to(USER)[before:]
    assert len(sent) >= 3
    joined = "".join(m.text for m in sent)
    # topics in turn, each story once; within a topic the newest first
    order = [10 * topic + n for topic in range(6) for n in reversed(range(10))]
    assert [joined.index(f"Story {n:02d}") for n in order] == sorted(
        joined.index(f"Story {n:02d}") for n in range(60))


async def test_a_channel_admin_sets_the_channels_digest_and_surges_privately(tmp_path):
    from tests.fakes.bot_api import BOT_ID

    channel = -1009000
    async with running_bot(tmp_path) as bot:
        bot.api.add_chat(channel, "channel", "Desk News", username="desknews")
        bot.api.set_member(channel, BOT_ID, "administrator", can_post_messages=True)
        bot.api.set_member(channel, USER, "administrator")
        reply = await bot.ask("/digest daily 07:30 @desknews")
        assert reply.startswith("From now on @desknews gets one digest a day at 07:30")
        assert "/digest" not in reply
        assert (await bot.ask("/surges off @desknews")) == "Surge alerts are off in @desknews."
        assert await digests.settings(bot.db, channel) == digests.ChatNotices("daily 07:30",
                                                                              False)
        assert await digests.settings(bot.db, USER) == digests.ChatNotices()
        bot.api.set_member(channel, USER, "member")
        refused = await bot.ask("/digest off @desknews")
        assert "admin" in refused
        assert (await digests.settings(bot.db, channel)).digest == "daily 07:30"


async def test_a_daily_digest_comes_at_the_chats_local_time_with_titles_in_its_language(world):
    from datetime import UTC, datetime

    from bot.store import chats, topics

    await chats.set_timezone(world.db, USER, "Europe/Paris")
    await chats.set_language(world.db, USER, "fr")
    await topics.set_title(world.db, "troops", "fr", "Troupes occidentales en Ukraine")
    reply = await world.ask("/digest daily 08:00")
    assert "Europe/Paris" in reply
    # Saturday 28 March 2026 at 08:00 in Paris is 07:00 UTC; the next day, after the
    # clocks went forward, 08:00 is 06:00 UTC.
    evening = datetime(2026, 3, 27, 20, 0, tzinfo=UTC).timestamp()
    await record(world.db, "bbc", "en", "https://x/e1", "Troops", evening)
    clock = Clock(datetime(2026, 3, 28, 6, 59, tzinfo=UTC).timestamp())
    service, telegram = notice_service(world, world.db, clock)
    before = len(world.api.sent_to(USER))
    async with telegram:
        await service.tick()
        assert len(world.api.sent_to(USER)) == before  # 07:59 in Paris: not yet
        clock.now = datetime(2026, 3, 28, 7, 0, tzinfo=UTC).timestamp()
        await service.tick()
        [digest] = world.api.sent_to(USER)[before:]
        assert "jusqu'au 28 mars 2026, 08:00 CET" in digest.text
        assert "Troupes occidentales en Ukraine" in digest.text
        await record(world.db, "bbc", "en", "https://x/e2", "More troops", clock.now + 60)
        clock.now = datetime(2026, 3, 29, 5, 59, tzinfo=UTC).timestamp()
        await service.tick()
        assert len(world.api.sent_to(USER)) == before + 1
        clock.now = datetime(2026, 3, 29, 6, 0, tzinfo=UTC).timestamp()
        await service.tick()
        assert len(world.api.sent_to(USER)) == before + 2
        assert "29 mars 2026, 08:00 CEST" in world.api.sent_to(USER)[-1].text


async def test_story_titles_are_translated_into_the_chats_language(world):
    from bot.config import TranslationConfig
    from bot.store import chats
    from bot.translation import Translator
    from tests.fakes.libretranslate import FakeLibreTranslate

    await chats.set_language(world.db, USER, "ru")
    await world.ask("/digest every 1m")
    await record(world.db, "bbc", "en", "https://x/t1", "Troops in Ukraine", T0)
    await record(world.db, "tass", "ru", "https://x/t2", "Войска на Украине", T0 + 1)
    with FakeLibreTranslate() as server:
        translator = await Translator.create(
            TranslationConfig(provider="libre", base_url=server.url, api_key="k"), world.db)
        clock = Clock(T0 + 40)
        telegram = Bot(world.api.token, base_url=world.api.base_url)
        sender = TelegramSender(telegram)
        service = sending_notices(world.db, sender,
                                translator.translate_entry, SurgesConfig(enabled=False),
                                clock=clock)
        before = len(world.api.sent_to(USER))
        try:
            async with telegram:
                await service.tick()
        finally:
            await translator.close()
    [digest] = world.api.sent_to(USER)[before:]
    assert "[ru] Troops in Ukraine" in digest.text  # the fake translator's Russian
    assert "Войска на Украине" in digest.text  # already in Russian: as published
    assert "[ru] Войска" not in digest.text


async def test_the_next_digest_is_dated_in_the_chats_language_and_zone(world):
    import re

    from bot.store import chats

    await chats.set_timezone(world.db, USER, "Europe/Paris")
    await chats.set_language(world.db, USER, "fr")
    reply = await world.ask("/digest daily 08:00")
    assert re.search(r"le prochain est prévu le \d{1,2} \w+\.? 20\d\d, 08:00 CES?T\.$", reply), \
        reply
    await chats.set_language(world.db, USER, "ru")
    reply = await world.ask("/digest")
    assert re.search(r"следующая — \d{1,2} \w+\.? 20\d\d\s?г\., 08:00 CES?T\.$", reply), reply


async def test_a_story_covered_by_hundreds_of_outlets_still_gets_its_digest_out(world):
    # The story's line of outlets alone passes 4096 characters: Telegram would refuse
    # it, and the digest, which took its matches, would be lost. It is shortened.
    await world.ask("/digest every 1m")
    first = await record(world.db, "outlet000", "en", "https://x/s0",
                         "Troops cross the border", T0)
    for n in range(1, 300):
        await record(world.db, f"outlet{n:03d}-with-a-long-name", "en", f"https://x/s{n}",
                     f"Troops cross the border ({n})", T0, first.story_id)
    await record(world.db, "bbc", "en", "https://x/other", "Drones over Kyiv", T0)
    clock = Clock(T0 + 40)
    service, telegram = notice_service(world, world.db, clock)
    before = len(world.api.sent_to(USER))
    async with telegram:
        await service.tick()
    sent = world.api.sent_to(USER)[before:]
    joined = "".join(m.text for m in sent)
    assert "Troops cross the border" in joined and "Drones over Kyiv" in joined
    # Accepted by the fake Bot API, which refuses what Telegram refuses (past 4096 units).
    assert len(sent) == 3 and "/story" in sent[1].text
    states = await world.db.fetchall("SELECT state FROM outbox WHERE kind = 'digest'")
    assert [row[0] for row in states] == ["sent"] * 3
