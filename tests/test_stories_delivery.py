"""One message per (story, chat) that grows as outlets and languages pick the story up,
through the real pipeline and python-telegram-bot to the fake Bot API."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.feeds.refresh import remember_entries
from bot.model import Entry
from bot.store import stories
from bot.store.chats import ensure_chat, set_coverage, subscribe
from bot.store.feeds import get_feed_by_url
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.story_world import (
    FEEDS,
    POWER_PLANT_FR,
    STRIKE_EN,
    STRIKE_FR,
    STRIKE_RU,
    StoryWorld,
    teach_pivots,
)

READER = 501  # English, follows both topics, coverage grow
EDITOR = 502  # French, follows strikes, coverage each


@pytest.fixture
async def world(tmp_path, monkeypatch):
    teach_pivots(monkeypatch)
    with FakeBotAPI() as api, FakeLibreTranslate() as libre:
        world = await StoryWorld(tmp_path, api, libre.url).start()
        await ensure_chat(world.db, READER, "private", "reader", "en")
        await subscribe(world.db, READER, "strikes")
        await subscribe(world.db, READER, "bryansk")
        try:
            yield world
        finally:
            await world.stop()


def alerts(api: FakeBotAPI, chat_id: int):
    return [m for m in api.sent_to(chat_id) if m.reply_to is None]


def replies(api: FakeBotAPI, chat_id: int):
    return [m for m in api.sent_to(chat_id) if m.reply_to is not None]


async def edits_alert(world, item: tuple, alert) -> str:
    """Publishes `item`, which must edit `alert` (its only edit) and send no new alert;
    what the alert shows now."""
    await world.publish(item)
    await world.deliver()
    [edit] = world.api.edits_of(READER)
    assert edit.params["message_id"] == alert.message_id
    assert len(alerts(world.api, READER)) == 1
    return world.api.text_of(READER, alert.message_id)


async def test_a_story_in_three_languages_is_one_message_edited_twice_with_a_reply_per_language(
        world):
    api = world.api
    await world.publish(STRIKE_FR)
    await world.deliver()
    [alert] = alerts(api, READER)
    # matched by both of the chat's topics: one message naming both
    assert "Long-range strikes" in alert.text and "Bryansk" in alert.text
    assert alert.reply_markup["inline_keyboard"][0][0]["callback_data"].startswith("story:")

    await world.publish(STRIKE_EN)
    await world.deliver()
    await world.publish(STRIKE_RU)
    await world.deliver()

    assert len(alerts(api, READER)) == 1  # one sendMessage for the story
    edits = api.edits_of(READER)
    assert len(edits) == 2
    assert all(e.params["message_id"] == alert.message_id for e in edits)
    shown = api.text_of(READER, alert.message_id)
    assert "Also covered by:" in shown
    assert shown.index("BBC (en)") < shown.index("TASS (ru)")  # newest last
    assert "3 outlets · 3 languages" in shown
    # the edit keeps the story button
    assert edits[-1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] \
        == alert.reply_markup["inline_keyboard"][0][0]["callback_data"]
    assert [r.text for r in replies(api, READER)] == ["Now in English: BBC",
                                                       "Now in Russian: TASS"]
    assert all(r.reply_to == alert.message_id for r in replies(api, READER))


async def test_each_mode_sends_every_entry_with_the_story_count(world):
    api = world.api
    await ensure_chat(world.db, EDITOR, "private", "editor", "fr")
    await subscribe(world.db, EDITOR, "strikes")
    await set_coverage(world.db, EDITOR, "each")
    for item in (STRIKE_FR, STRIKE_EN, STRIKE_RU):
        await world.publish(item)
        await world.deliver()
    sent = api.sent_to(EDITOR)
    assert len(sent) == 3 and api.edits_of(EDITOR) == []
    assert "Événement" not in sent[0].text
    assert "Événement\u00a0: 2 médias · 2 langues" in sent[1].text
    assert "Événement\u00a0: 3 médias · 3 langues" in sent[2].text


async def test_an_unrelated_entry_on_the_same_topic_is_a_new_message(world):
    api = world.api
    await world.publish(STRIKE_FR)
    await world.publish(POWER_PLANT_FR)
    await world.deliver()
    assert len(alerts(api, READER)) == 2
    assert api.edits_of(READER) == [] and replies(api, READER) == []


async def test_after_a_restart_the_edit_lands_on_the_original_message(world):
    api = world.api
    await world.publish(STRIKE_FR)
    await world.deliver()
    [alert] = alerts(api, READER)
    await world.restart()
    assert "BBC (en)" in await edits_alert(world, STRIKE_EN, alert)


async def test_when_the_original_is_deleted_a_reply_carries_the_new_line_only(world):
    api = world.api
    await world.publish(STRIKE_FR)
    await world.deliver()
    [alert] = alerts(api, READER)
    api.delete_message(READER, alert.message_id)
    await world.publish(STRIKE_EN)
    await world.deliver()
    texts = [r.text for r in replies(api, READER)]
    assert len(texts) == 2  # the new line, and the new language
    line = next(t for t in texts if "BBC (en)" in t)
    assert line.startswith('<a href="https://bbc.example/') and line.count("\n") == 0
    assert "Also covered by" not in line and "Le Monde" not in line  # the line only
    assert "Now in English: BBC" in texts
    # silent as the edit it stands for; the language reply rings
    sound = {c.params["text"]: c.params.get("disable_notification")
             for c in api.calls_of("sendMessage") if c.params.get("chat_id") == READER}
    assert sound[line] is True and not sound["Now in English: BBC"]
    # later coverage goes straight to a reply: no more edits of a deleted message
    await world.publish(STRIKE_RU)
    await world.deliver()
    assert len(replies(api, READER)) == 4
    newest = [r.text for r in replies(api, READER)[2:]]
    line = next(t for t in newest if "TASS (ru)" in t)
    assert "BBC" not in line and "Le Monde" not in line
    assert len(alerts(api, READER)) == 1


async def test_a_chat_following_only_a_later_entrys_topic_gets_its_own_message(world):
    api = world.api
    await ensure_chat(world.db, EDITOR, "private", "editor", "en")
    await subscribe(world.db, EDITOR, "bryansk")
    await world.publish(POWER_PLANT_FR)  # strikes only: not for the editor
    await world.deliver()
    assert api.sent_to(EDITOR) == []
    await world.publish(STRIKE_FR)
    await world.deliver()
    assert len(api.sent_to(EDITOR)) == 1


async def test_the_same_entry_handed_over_twice_queues_nothing_more(world):
    assert await world.publish(STRIKE_FR, link="https://lemonde.example/a") == 1
    await world.deliver()
    row = await world.db.fetchone("SELECT COUNT(*) FROM story_entries")
    assert row[0] == 1
    await world.stage.match_pending()  # nothing pending
    await world.deliver()
    assert len(world.api.sent_to(READER)) == 1


async def test_when_the_coverage_no_longer_fits_the_alert_a_reply_carries_it(world):
    api = world.api
    outlet, title, summary, pivot = STRIKE_FR
    long_title = title + " — " + "analyse " * 600  # the alert alone fills Telegram's 4096
    await world.publish((outlet, long_title, summary, None))
    await world.deliver()
    [alert] = alerts(api, READER)
    first = await world.db.fetchone("SELECT story_id FROM story_entries")
    # The BBC's entry joins that story (placed by the store, whatever the similarity says).
    feed = await get_feed_by_url(world.db, FEEDS["BBC"].url)
    _, en_title, en_summary, _ = STRIKE_EN
    [stored] = await remember_entries(world.db, feed, [Entry(
        key="bbc-1", link="https://bbc.example/1", title=en_title, summary=en_summary,
        published=datetime.now(UTC), language="en")], time.time(), baseline=False)
    await stories.record_entry(world.db, stored.id, stored.entry.alert_key,
                               [("strikes", ("missiles",))], time.time(), story_id=first[0])
    await world.deliver()
    assert api.edits_of(READER) == []
    line = next(r.text for r in replies(api, READER) if "BBC (en)" in r.text)
    assert line.startswith('<a href="https://bbc.example/1">') and "\n" not in line
    assert api.text_of(READER, alert.message_id) is not None  # the alert itself is untouched


async def test_entries_are_grouped_without_a_pivot_when_the_translator_is_down(tmp_path):
    with FakeBotAPI() as api, FakeLibreTranslate() as libre:
        libre.script.fail_status, libre.script.fail_count = 503, -1
        world = await StoryWorld(tmp_path, api, libre.url).start()
        try:
            await ensure_chat(world.db, READER, "private", "reader", "en")
            await subscribe(world.db, READER, "strikes")
            await world.publish(STRIKE_FR)
            await world.deliver()
            await world.publish(STRIKE_EN)  # names and numbers still link the two
            await world.publish(POWER_PLANT_FR)
            stories_of = [r[0] for r in await world.db.fetchall(
                "SELECT story_id FROM story_entries ORDER BY entry_id")]
            assert stories_of[0] == stories_of[1] != stories_of[2]
            await world.deliver()
            strike, power_plant = alerts(api, READER)  # the strike's alert grew instead
            [edit] = api.edits_of(READER)
            assert edit.params["message_id"] == strike.message_id
            assert "BBC (en)" in api.text_of(READER, strike.message_id)
        finally:
            await world.stop()


async def test_when_the_first_message_was_refused_the_next_entry_is_sent_afresh(world):
    api = world.api
    api.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    await world.publish(STRIKE_FR)
    await world.deliver()
    assert alerts(api, READER) == []  # Telegram refused it for good: the row is dead
    dead = await world.db.fetchone("SELECT COUNT(*) FROM outbox WHERE state = 'dead'")
    assert dead[0] == 1

    await world.publish(STRIKE_EN)
    await world.deliver()
    [alert] = alerts(api, READER)  # not an edit or a reply of a message never shown
    assert api.edits_of(READER) == [] and replies(api, READER) == []
    assert "Storm Shadow" in alert.text and "Le Monde (fr)" in alert.text  # the story so far
    assert "2 outlets · 2 languages" in alert.text

    # it is the story's message now: the next entry edits it
    assert "TASS (ru)" in await edits_alert(world, STRIKE_RU, alert)
    assert [r.text for r in replies(api, READER)] == ["Now in Russian: TASS"]
    assert all(r.reply_to == alert.message_id for r in replies(api, READER))


async def test_an_edit_queued_before_the_first_message_was_refused_sends_the_story(world):
    api = world.api
    await world.publish(STRIKE_FR)
    await world.publish(STRIKE_EN)  # queued as an edit of a message not sent yet
    api.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    await world.deliver()
    [alert] = alerts(api, READER)  # the edit, with nothing to edit, sent the story instead
    assert api.edits_of(READER) == []
    assert "BBC (en)" in alert.text or "Le Monde (fr)" in alert.text
    assert "2 outlets · 2 languages" in alert.text
    assert alert.reply_markup["inline_keyboard"][0][0]["callback_data"].startswith("story:")
    # the "now in English" reply goes to the message that was shown
    assert [(r.text, r.reply_to) for r in replies(api, READER)] == [
        ("Now in English: BBC", alert.message_id)]
    assert "TASS (ru)" in await edits_alert(world, STRIKE_RU, alert)
