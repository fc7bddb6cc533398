"""The one sender's map of Telegram's answers, through python-telegram-bot and the fake Bot
API: a deleted forum thread, a send that timed out, a silent row, texts of their own."""

import pytest
import telegram.ext
from telegram.request import HTTPXRequest

from bot.alerts.deliver import Deliverer, DeliveryPolicy, TelegramSender
from bot.store import chats, outbox
from bot.store.outbox_texts import queue_text
from bot.telegram.budget import Budget, TelegramLimits
from bot.telegram.rate_limiter import BudgetRateLimiter
from tests.fakes.alert_world import (
    add_entry,
    add_feed,
    add_subscriber,
    add_topic_named,
    open_db,
    translate,
)
from tests.fakes.bot_api import FakeBotAPI

FAST = DeliveryPolicy().scaled(0.05)
GROUP = -100777


@pytest.fixture
def api():
    with FakeBotAPI() as fake:
        yield fake


def budget_bot(api, read_timeout: float = 5.0):
    return telegram.ext.ExtBot(
        api.token, base_url=api.base_url, base_file_url=api.base_file_url,
        request=HTTPXRequest(connection_pool_size=8, read_timeout=read_timeout),
        rate_limiter=BudgetRateLimiter(Budget(TelegramLimits().scaled(0.05))))


@pytest.fixture
async def db(tmp_path):
    db = await open_db(tmp_path)
    await add_topic_named(db, "troops", "Western troops in Ukraine")
    yield db
    await db.close()


async def _match(db, n=0):
    row = await db.fetchone("SELECT id FROM feeds")
    feed = row[0] if row else await add_feed(db, "https://lemonde.fr/rss", "fr", "Le Monde")
    entry = await add_entry(db, feed, f"https://lemonde.fr/{n}", f"Des troupes {n}", "", "fr")
    return await outbox.record_matches(db, entry, f"https://lemonde.fr/{n}",
                                       [("troops", ["troupes"])], 0.0)


async def test_a_deleted_forum_thread_sends_to_general_and_tells_the_group_once(db, api):
    api.add_chat(GROUP, "supergroup", "Desk")
    await add_subscriber(db, GROUP, ["troops"], thread_id=42)
    await _match(db, 0)
    await _match(db, 1)
    api.fail_chat(GROUP, 400, "Bad Request: message thread not found", times=1)
    async with budget_bot(api) as bot:
        await Deliverer(db, TelegramSender(bot), translate, FAST).drain()
    sent = api.sent_to(GROUP)
    assert len(sent) == 3 and all(m.message_thread_id is None for m in sent)
    assert sum("forum topic" in m.text for m in sent) == 1
    [subscription] = await chats.subscriptions(db, GROUP)
    assert subscription.thread_id is None  # later alerts go to General from the start


async def test_a_send_that_timed_out_is_sent_again_once_at_most_never_in_place(db, api):
    await add_subscriber(db, 5, ["troops"])
    await _match(db)
    api.latency = 0.6  # Telegram takes the message and answers after the client gave up
    async with budget_bot(api, read_timeout=0.2) as bot:
        await Deliverer(db, TelegramSender(bot), translate, FAST).drain()
    assert len(api.sent_to(5)) == 2  # the one repeat a crash could cause as well, no more
    row = await db.fetchone("SELECT state, last_error FROM outbox")
    assert row["state"] == "dead" and "timed out twice" in row["last_error"]


async def test_silent_rows_arrive_without_a_sound_and_texts_go_as_written(db, api):
    await add_subscriber(db, 6, ["troops"])
    async with db.transaction() as conn:
        await queue_text(conn, "surge", 6, "surge:1", 0.0, body="<b>surge</b>", silent=True)
        await queue_text(conn, "notice", 6, "fold:1:1", 0.0,
                         notice={"key": "delivery.folded",
                                 "values": {"count": 3, "topic": "troops"}})
    async with budget_bot(api) as bot:
        await Deliverer(db, TelegramSender(bot), translate, FAST).drain()
    surge, notice = api.sent_to(6)
    assert surge.text == "<b>surge</b>"
    assert "3 more matches" in notice.text and "/recent troops" in notice.text
    [call, other] = api.calls_of("sendMessage")
    assert call.params.get("disable_notification") is True
    assert not other.params.get("disable_notification")
