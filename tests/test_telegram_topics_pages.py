"""/topics in pages that fit Telegram (4,096 units, 100 buttons), turned with ◀️ / ▶️,
and every button answered, whatever data it carries."""

from __future__ import annotations

import time

import pytest

from bot.model import Subscription, Topic
from bot.store import chats, topics
from tests.fakes.bot_api import telegram_length
from tests.fakes.telegram_app import USER, running_bot

MANY = 10_000


async def add_many_topics(db, count: int, title: str = "A topic about {n}") -> None:
    """Topics written in one transaction: ten thousand one by one would take minutes."""
    now = time.time()
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO topics (name, title, origin, created_at, updated_at) "
            "VALUES (?, ?, 'chat', ?, ?)",
            [(f"topic-{n:05d}", title.format(n=n), now, now) for n in range(count)])


def buttons_of(markup: dict) -> list[dict]:
    return [button for row in markup["inline_keyboard"] for button in row]


def turn(markup: dict, arrow: str) -> dict:
    [button] = [b for b in buttons_of(markup) if arrow in b["text"]]
    return button


async def test_ten_thousand_topics_are_paged_and_every_page_fits(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_many_topics(bot.db, MANY, title="🚀 {n} " + "long title " * 40)
        [listing] = await bot.send("/topics")
        assert telegram_length(listing.text) <= 4096
        assert "Page 1 of 500" in listing.text and "topic-00000" in listing.text
        first = buttons_of(listing.reply_markup)
        assert len(first) <= 100 and [b["text"] for b in first][-1] == "Next ▶️"
        assert not any("Previous" in b["text"] for b in first)

        bot.api.inject_callback(USER, USER, turn(listing.reply_markup, "▶️")["callback_data"],
                                listing.message_id)
        await bot.until(lambda: len(bot.api.edits) == 1)
        second = bot.api.edits[0].params
        assert "Page 2 of 500" in second["text"] and "topic-00020" in second["text"]
        assert "topic-00019" not in second["text"]
        assert telegram_length(second["text"]) <= 4096
        assert len(buttons_of(second["reply_markup"])) <= 100
        assert bot.api.callback_answers  # the spinner stops

        bot.api.inject_callback(USER, USER, "topics:500", listing.message_id)
        await bot.until(lambda: len(bot.api.edits) == 2)
        last = bot.api.edits[1].params
        assert "Page 500 of 500" in last["text"] and "topic-09999" in last["text"]
        assert [b["text"] for b in buttons_of(last["reply_markup"])][-1] == "◀️ Previous"


async def test_subscribing_on_a_later_page_redraws_that_page(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_many_topics(bot.db, 45)
        [listing] = await bot.send("/topics")
        bot.api.inject_callback(USER, USER, "topics:3", listing.message_id)
        await bot.until(lambda: len(bot.api.edits) == 1)
        page_three = bot.api.edits[0].params["reply_markup"]
        [button] = [b for b in buttons_of(page_three) if b["text"].endswith("topic-00041")]
        bot.api.inject_callback(USER, USER, button["callback_data"], listing.message_id)
        await bot.until(lambda: len(bot.api.edits) == 2)
        assert await chats.subscriptions(bot.db, USER) == [Subscription(USER, "topic-00041")]
        redrawn = bot.api.edits[1].params
        assert "Page 3 of 3" in redrawn["text"] and "✅ topic-00041" in redrawn["text"]


async def test_a_page_past_the_end_shows_the_last_one(tmp_path):
    async with running_bot(tmp_path) as bot:
        await add_many_topics(bot.db, 30)
        [listing] = await bot.send("/topics")
        bot.api.inject_callback(USER, USER, "topics:999999999999", listing.message_id)
        await bot.until(lambda: len(bot.api.edits) == 1)
        assert "Page 2 of 2" in bot.api.edits[0].params["text"]
        bot.api.inject_callback(USER, USER, "topics:٣", listing.message_id)  # not ASCII
        await bot.until(lambda: len(bot.api.edits) == 2)
        assert "Page 1 of 2" in bot.api.edits[1].params["text"]


async def test_a_short_list_has_no_pages(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, Topic("gas", "Gas supplies", {"en": "gas"}))
        [listing] = await bot.send("/topics")
        assert "Page" not in listing.text
        assert [b["text"] for b in buttons_of(listing.reply_markup)] == ["➕ gas"]


async def test_a_button_from_before_pages_still_subscribes(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, Topic("gas", "Gas supplies", {"en": "gas"}))
        topic_id = (await topics.topic_ids(bot.db))["gas"]
        [listing] = await bot.send("/topics")
        bot.api.inject_callback(USER, USER, f"sub:{topic_id}", listing.message_id)
        await bot.until(lambda: len(bot.api.edits) == 1)
        assert await chats.subscriptions(bot.db, USER) == [Subscription(USER, "gas")]


@pytest.mark.parametrize("data", ["frobnicate", "mute:", "story:1:2", "sub:1:2:3",
                                  "topics:", "x" * 64, "digest:daily"])
async def test_a_button_nobody_knows_is_answered_in_one_line(tmp_path, data):
    async with running_bot(tmp_path) as bot:
        [listing] = await bot.send("/help")
        bot.api.inject_callback(USER, USER, data, listing.message_id)
        await bot.until(lambda: bot.api.callback_answers)
        [answer] = bot.api.callback_answers
        assert answer.params["text"].startswith("This button no longer works.")
        assert len(answer.params["text"]) <= 200
        assert bot.api.edits == []


async def test_a_button_whose_handler_fails_is_answered_too(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, Topic("gas", "Gas supplies", {"en": "gas"}))
        [listing] = await bot.send("/topics")
        data = buttons_of(listing.reply_markup)[0]["callback_data"]
        bot.api.fail_next("answerCallbackQuery", 500, "Internal Server Error")
        bot.api.inject_callback(USER, USER, data, listing.message_id)
        await bot.until(lambda: bot.api.callback_answers)
        [answer] = bot.api.callback_answers  # the first answer failed: the second is this
        assert answer.params["text"] == "Sorry, something went wrong. Please try again later."
