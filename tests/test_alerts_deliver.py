"""Delivery through python-telegram-bot to the fake Bot API: paced, ordered, exactly once."""

import asyncio
import io

import pytest
import telegram
import telegram.ext
from telegram.request import HTTPXRequest

from bot.alerts.deliver import ConsoleSender, Deliverer, DeliveryPolicy, TelegramSender
from bot.store import outbox
from bot.telegram.budget import Budget, TelegramLimits
from bot.telegram.rate_limiter import BudgetRateLimiter
from tests.fakes.alert_world import (
    Translation,
    add_entry,
    add_feed,
    add_subscriber,
    add_topic_named,
    open_db,
    translate,
)
from tests.fakes.bot_api import FakeBotAPI, Limits, parse_telegram_html

FAST = DeliveryPolicy().scaled(0.05)  # retries twenty times faster
FAST_LIMITS = TelegramLimits().scaled(0.05)  # Telegram's limits, twenty times faster


async def broken_translate(title, summary, source, target):
    return Translation(title, summary, False, "provider down")


@pytest.fixture
def api():
    with FakeBotAPI() as fake:
        yield fake


def budget_bot(api, limits=FAST_LIMITS):
    """A Bot spending one Telegram budget, as the service's bots do."""
    return telegram.ext.ExtBot(api.token, base_url=api.base_url,
                               base_file_url=api.base_file_url,
                               request=HTTPXRequest(connection_pool_size=32),
                               rate_limiter=BudgetRateLimiter(Budget(limits)))


@pytest.fixture
async def bot(api):
    async with budget_bot(api) as bot:
        yield bot


@pytest.fixture
async def db(tmp_path):
    db = await open_db(tmp_path)
    await add_topic_named(db, "troops", "Western troops in Ukraine")
    yield db
    await db.close()


async def _match(db, n=0, topic="troops", feed="https://lemonde.fr/rss"):
    row = await db.fetchone("SELECT id FROM feeds WHERE url = ?", (feed,))
    feed_id = row[0] if row else await add_feed(db, feed, "fr", "Le Monde")
    link = f"https://lemonde.fr/{n}"
    row = await db.fetchone("SELECT id FROM entries WHERE feed_id = ? AND key = ?", (feed_id, link))
    entry = row[0] if row else await add_entry(db, feed_id, link, f"Des troupes {n} <script>&",
                                               "Résumé " * 3000, "fr")
    return await outbox.record_matches(db, entry, link, [(topic, ["troupes"])], 0.0)


def _deliverer(db, bot, translate=translate, pacing=FAST):
    return Deliverer(db, TelegramSender(bot), translate, pacing)


async def test_every_subscribed_chat_gets_one_translated_alert(db, bot, api):
    await add_subscriber(db, 1, ["troops"], language="ru")
    await add_subscriber(db, 2, ["troops"], language="fr")
    await add_subscriber(db, -100, ["troops"], language="en", thread_id=5)
    assert await _match(db) == 3
    await _deliverer(db, bot).drain()
    (ru,) = api.sent_to(1)
    plain = parse_telegram_html(ru.text)
    assert "[ru] Des troupes 0 <script>&" in plain and "fr → ru" in plain
    assert "Оригинал: Des troupes 0 <script>&" in plain and "Читать на Le Monde" in plain
    assert '<a href="https://lemonde.fr/0">' in ru.text
    assert ru.parse_mode == "HTML" and len(plain) <= 4096
    (fr,) = api.sent_to(2)
    assert "Original" not in parse_telegram_html(fr.text)
    (group,) = api.sent_to(-100)
    assert group.message_thread_id == 5
    assert await outbox.alerts_sent_since(db, 0) == 3


async def test_failed_translation_sends_the_original_with_a_note(db, bot, api):
    await add_subscriber(db, 1, ["troops"], language="en")
    await _match(db)
    await _deliverer(db, bot, translate=broken_translate).drain()
    plain = parse_telegram_html(api.sent_to(1)[0].text)
    assert "Des troupes 0" in plain and "Translation unavailable" in plain


async def test_retry_after_is_obeyed(db, bot, api):
    await add_subscriber(db, 1, ["troops"])
    await add_subscriber(db, 2, ["troops"])
    await _match(db)
    api.fail_chat(1, 429, "Too Many Requests: retry after 1", times=1, retry_after=1)
    deliverer = _deliverer(db, bot)
    await deliverer.drain()
    attempts = [c.at for c in api.calls_of("sendMessage") if c.params["chat_id"] == 1]
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 0.95
    assert deliverer.count_429 == 1
    assert len(api.sent_to(1)) == len(api.sent_to(2)) == 1


async def test_blocked_chat_is_deactivated_and_others_continue(db, bot, api):
    for chat in (1, 2, 3, 4):
        await add_subscriber(db, chat, ["troops"])
    api.block(2)
    api.forget_chat(3)
    await _match(db, 0)
    await _match(db, 1)
    await _deliverer(db, bot).drain()
    assert len(api.sent_to(1)) == len(api.sent_to(4)) == 2
    rows = await db.fetchall("SELECT id, active, deactivated_reason FROM chats ORDER BY id")
    assert {r[0]: r[1] for r in rows} == {1: 1, 2: 0, 3: 0, 4: 1}
    assert "blocked" in rows[1][2] and "not found" in rows[2][2].lower()
    # a chat that is gone is tried once, not once per alert
    assert len([c for c in api.calls_of("sendMessage") if c.params["chat_id"] == 2]) == 1
    assert await _match(db, 2) == 2


async def test_a_group_that_became_a_supergroup_gets_its_alerts_at_the_new_id(db, bot, api):
    await add_subscriber(db, -55, ["troops"], language="fr", type="group")
    await add_subscriber(db, 1, ["troops"])
    api.migrate(-55, -1005500)
    await _match(db, 0)
    await _match(db, 1)
    await _deliverer(db, bot).drain()
    assert api.sent_to(-55) == []
    assert [parse_telegram_html(m.text).split("\n")[2] for m in api.sent_to(-1005500)] == [
        "Des troupes 0 <script>&", "Des troupes 1 <script>&"]
    assert len(api.sent_to(1)) == 2
    # The subscription moved too: the next alert goes straight to the new id.
    assert await _match(db, 2) == 2
    row = await db.fetchone("SELECT language FROM chats WHERE id = -1005500")
    assert row[0] == "fr"


async def test_a_private_chats_burst_arrives_in_order_at_its_pace(db, bot, api):
    await add_subscriber(db, 1, ["troops"])
    for n in range(6):
        await _match(db, n)
    await _deliverer(db, bot).drain()
    sent = api.sent_to(1)
    assert [f"lemonde.fr/{n}" in m.text for n, m in enumerate(sent)] == [True] * 6
    gaps = [b.at - a.at for a, b in zip(sent, sent[1:])]
    assert min(gaps) >= FAST_LIMITS.chat_interval * 0.9


async def test_server_errors_are_retried_with_backoff(db, bot, api):
    await add_subscriber(db, 1, ["troops"])
    await _match(db)
    api.fail_next("sendMessage", 500, times=2)
    api.fail_next("sendMessage", 502, "Bad Gateway")
    await _deliverer(db, bot).drain()
    assert len(api.sent_to(1)) == 1


async def test_a_chat_that_keeps_failing_waits_in_the_queue_in_order(db, bot, api):
    await add_subscriber(db, 1, ["troops"])
    await add_subscriber(db, 2, ["troops"])
    await _match(db, 0)
    await _match(db, 1)
    api.fail_chat(1, 500, "Internal Server Error", times=6)
    await _deliverer(db, bot, pacing=DeliveryPolicy(retries_in_place=1).scaled(0.02)).drain()
    assert [("lemonde.fr/0" in m.text, "lemonde.fr/1" in m.text)
            for m in api.sent_to(1)] == [(True, False), (False, True)]
    assert len(api.sent_to(2)) == 2


async def test_paced_delivery_gets_no_429_from_telegrams_limits(db, bot, api):
    api.limits = Limits(enabled=True, scale=0.05)
    chats = list(range(1, 13)) + [-1, -2, -3]
    for chat in chats:
        await add_subscriber(db, chat, ["troops"])
    for n in range(4):
        await _match(db, n)
    deliverer = _deliverer(db, bot)
    await deliverer.drain()
    assert api.count_429 == 0 and deliverer.count_429 == 0
    assert all(len(api.sent_to(chat)) == 4 for chat in chats)


async def test_exactly_once_across_restarts_with_a_send_in_flight(db, bot, api):
    for chat in (1, 2, 3):
        await add_subscriber(db, chat, ["troops"])
    await _match(db)
    # A crashed run: every row claimed; chat 1's alert went out but was never marked sent.
    items = await outbox.claim_due(db, 10**10, 10)
    html = "<b>crashed run</b>"
    await TelegramSender(bot).send(items[0].chat_id, None, html)
    await _deliverer(db, bot).drain()  # the restart requeues 'sending' rows
    await _match(db)  # the feed re-polls the same item
    await _deliverer(db, bot).drain()
    assert [len(api.sent_to(chat)) for chat in (1, 2, 3)] == [2, 1, 1]  # only the one in flight
    assert await outbox.queue_length(db) == 0


async def test_run_wakes_on_notify_and_stops_cleanly(db, bot, api):
    await add_subscriber(db, 1, ["troops"])
    deliverer = _deliverer(db, bot, pacing=FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))
    await asyncio.sleep(0.05)
    await _match(db)
    deliverer.notify()
    assert await asyncio.to_thread(api.wait_for, lambda a: a.sent_to(1), 30.0)
    stop.set()
    await asyncio.wait_for(task, 30)
    assert await outbox.queue_length(db) == 0


async def test_stopping_mid_burst_releases_unsent_alerts(db, bot, api):
    await add_subscriber(db, 1, ["troops"])
    for n in range(5):
        await _match(db, n)
    # One a second to the chat: the stop comes well before the fifth, even on a busy machine.
    slow = budget_bot(api, TelegramLimits())
    await slow.initialize()
    deliverer = _deliverer(db, slow, pacing=DeliveryPolicy())
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))
    assert await asyncio.to_thread(api.wait_for, lambda a: a.sent_to(1), 30.0)
    stop.set()
    await asyncio.wait_for(task, 30)
    sent = len(api.sent_to(1))
    assert 1 <= sent < 5
    states = await db.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    assert dict((r[0], r[1]) for r in states) == {"sent": sent, "pending": 5 - sent}


async def test_console_prints_one_plain_block_per_alert(db):
    await add_subscriber(db, 1, ["troops"], language="en")
    await _match(db)
    stream = io.StringIO()
    await Deliverer(db, ConsoleSender(stream), translate).drain()
    out = stream.getvalue()
    assert "[en] Des troupes 0 <script>&" in out and "<b>" not in out and "&amp;" not in out
    assert "https://lemonde.fr/0" in out
    assert "Read on Le Monde <https://lemonde.fr/0>" in out  # the address after its label


async def test_console_prints_a_redraw_only_when_it_shows_something_new():
    stream = io.StringIO()
    console = ConsoleSender(stream)
    first = await console.send(1, None, "<b>Story</b> · 1 outlet")
    await console.edit(1, first, "<b>Story</b> · 1 outlet")  # the same text: nothing new
    assert stream.getvalue().count("Story") == 1
    await console.edit(1, first, "<b>Story</b> · 2 outlets")
    assert stream.getvalue().count("Story") == 2 and "2 outlets" in stream.getvalue()
