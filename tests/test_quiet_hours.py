"""Quiet hours: /quiet in the three UI languages through the fake Bot API, the window in
the chat's time zone, and an alert sent then with disable_notification, nothing held."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import telegram.ext

from bot.alerts.deliver import Deliverer, DeliveryPolicy, TelegramSender
from bot.alerts.quiet import QuietHours, is_quiet, parse_quiet
from bot.i18n import t
from bot.store import chats, outbox
from tests.fakes.alert_world import (
    add_entry,
    add_feed,
    add_subscriber,
    add_topic_named,
    open_db,
    translate,
)
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.telegram_app import USER, running_bot

MOSCOW = ZoneInfo("Europe/Moscow")


def moscow(hour: int, minute: int = 0) -> float:
    return datetime(2026, 12, 8, hour, minute, tzinfo=MOSCOW).timestamp()


def test_a_window_is_read_with_any_dash_and_may_span_midnight():
    assert parse_quiet("22:00-07:00") == QuietHours(22 * 60, 7 * 60)
    assert str(parse_quiet("7:05 – 9:30")) == "07:05-09:30"
    night = parse_quiet("22:00-07:00")
    assert night.covers(23 * 60) and night.covers(0) and night.covers(6 * 60 + 59)
    assert not night.covers(7 * 60) and not night.covers(12 * 60)
    lunch = parse_quiet("12:00-14:00")
    assert lunch.covers(13 * 60) and not lunch.covers(14 * 60) and not lunch.covers(11 * 60)
    for bad in ("22-07", "24:00-07:00", "22:00-22:00", "22:00", "off", "22:60-07:00"):
        with pytest.raises(ValueError):
            parse_quiet(bad)


def test_the_window_is_read_in_the_chats_time_zone():
    # 23:30 in Moscow is 20:30 UTC: quiet for a Moscow chat, not for a UTC one
    assert is_quiet("22:00-07:00", "Europe/Moscow", moscow(23, 30))
    assert not is_quiet("22:00-07:00", "UTC", moscow(23, 30))
    assert not is_quiet("22:00-07:00", "Europe/Moscow", moscow(12))
    assert not is_quiet(None, "Europe/Moscow", moscow(23, 30))


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
async def test_quiet_sets_shows_and_ends_the_window(tmp_path, lang):
    async with running_bot(tmp_path) as bot:
        await bot.ask("/start", language_code=lang)
        await bot.ask("/timezone Europe/Moscow")
        assert await bot.ask("/quiet") == t(lang, "quiet.none")
        assert await bot.ask("/quiet 22:00 - 7:00") == t(
            lang, "quiet.set", window="22:00-07:00", timezone="Europe/Moscow")
        assert await chats.chat_quiet(bot.db, USER) == "22:00-07:00"
        assert await bot.ask("/quiet") == t(lang, "quiet.current", window="22:00-07:00",
                                            timezone="Europe/Moscow")
        assert await bot.ask("/quiet 25:00-07:00") == t(lang, "quiet.usage")
        assert await chats.chat_quiet(bot.db, USER) == "22:00-07:00"
        assert await bot.ask("/quiet off") == t(lang, "quiet.off")
        assert await chats.chat_quiet(bot.db, USER) is None


async def test_in_a_group_only_its_admins_set_quiet_hours(tmp_path):
    async with running_bot(tmp_path) as bot:
        group = -100777
        bot.api.set_member(group, USER, "member")
        assert await bot.ask("/quiet 22:00-07:00", chat_id=group, chat_type="supergroup",
                             user_id=USER) == t("en", "error.group_admins_only")
        assert await chats.chat_quiet(bot.db, group) is None


@pytest.fixture
def api():
    with FakeBotAPI() as fake:
        yield fake


async def _alert_sent_at(tmp_path, api, now: float) -> dict:
    """Two chats follow the topic, one quiet 22:00-07:00 in Moscow; one alert each and a
    digest for the quiet one, delivered at `now`: the sendMessage parameters, by chat
    (the digest's under "digest")."""
    db = await open_db(tmp_path)
    try:
        await add_topic_named(db, "troops")
        await add_subscriber(db, 1, ["troops"], language="en")
        await add_subscriber(db, 2, ["troops"], language="ru")
        for chat_id in (1, 2):
            await chats.set_timezone(db, chat_id, "Europe/Moscow")
        await chats.set_quiet(db, 1, "22:00-07:00")
        feed = await add_feed(db, "https://lemonde.fr/rss", "fr", "Le Monde")
        entry = await add_entry(db, feed, "https://lemonde.fr/1", "Des troupes", "", "fr")
        assert await outbox.record_matches(db, entry, "https://lemonde.fr/1",
                                           [("troops", ["troupes"])], now) == 2
        async with db.transaction() as conn:  # and a digest, as the digest service queues it
            await outbox.queue_text(conn, "digest", 1, "digest-1", now, body="<b>Digest</b>")
        async with telegram.ext.ExtBot(api.token, base_url=api.base_url) as bot:
            deliverer = Deliverer(db, TelegramSender(bot), translate,
                                  DeliveryPolicy().scaled(0.05), clock=lambda: now)
            await deliverer.drain()
        assert await outbox.queue_length(db) == 0  # nothing held back
    finally:
        await db.close()
    calls = api.calls_of("sendMessage")
    assert len(calls) == 3
    sent = {call.params["chat_id"]: call.params for call in calls if "Digest" not in
            call.params["text"]}
    sent["digest"] = next(call.params for call in calls if "Digest" in call.params["text"])
    return sent


async def test_an_alert_in_quiet_hours_is_sent_without_sound(tmp_path, api):
    sent = await _alert_sent_at(tmp_path, api, moscow(23, 30))
    assert sent[1].get("disable_notification") is True
    assert sent["digest"].get("disable_notification") is True  # whatever the bot sends
    assert "disable_notification" not in sent[2]  # the other chat rings as usual


async def test_an_alert_outside_quiet_hours_rings(tmp_path, api):
    sent = await _alert_sent_at(tmp_path, api, moscow(9, 15))
    assert all("disable_notification" not in params for params in sent.values())
