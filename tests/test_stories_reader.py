"""What a reader sees of a growing story, through the real pipeline and python-telegram-bot
to the fake Bot API: linked lines in the chat's language, topics and buttons over the
whole story, nothing more for a chat that muted it, and /coverage's conditions."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.fanout import CoverageSetting
from bot.feeds.refresh import remember_entries
from bot.model import Entry
from bot.store import stories
from bot.store.chats import ensure_chat, set_coverage, subscribe, unsubscribe, unsubscribe_all
from bot.store.feeds import get_feed_by_url
from tests.fakes.bot_api import FakeBotAPI, parse_telegram_html
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.story_world import (
    FEEDS,
    STRIKE_EN,
    STRIKE_FR,
    STRIKE_RU,
    StoryWorld,
    teach_pivots,
)

READER = 601  # English, follows both topics, coverage grow
DESK = 602  # French, follows strikes only
BUREAU = 603  # Russian, follows strikes only


@pytest.fixture
async def world(tmp_path, monkeypatch):
    teach_pivots(monkeypatch)
    with FakeBotAPI() as api, FakeLibreTranslate() as libre:
        world = await StoryWorld(tmp_path, api, libre.url).start()
        await ensure_chat(world.db, READER, "private", "reader", "en")
        try:
            yield world
        finally:
            await world.stop()


def alerts(api: FakeBotAPI, chat_id: int):
    return [m for m in api.sent_to(chat_id) if m.reply_to is None]


def replies(api: FakeBotAPI, chat_id: int):
    return [m for m in api.sent_to(chat_id) if m.reply_to is not None]


def buttons(markup: dict) -> list[tuple[str, str]]:
    return [(row[0]["text"], row[0]["callback_data"]) for row in markup["inline_keyboard"]]


async def place(world: StoryWorld, item: tuple, story_id: int | None,
                matches: list[tuple[str, tuple[str, ...]]]) -> int:
    """`item` as a new entry of its outlet that matched `matches` and joined `story_id`
    (a new story when None), whatever the similarity would say: the delivery is under
    test here, not the clustering. The story's id."""
    outlet, title, summary, _ = item
    feed = await get_feed_by_url(world.db, FEEDS[outlet].url)
    link = f"{FEEDS[outlet].url.removesuffix('/rss')}/{time.time_ns()}"
    [stored] = await remember_entries(world.db, feed, [Entry(
        key=link, link=link, title=title, summary=summary, published=datetime.now(UTC),
        language=FEEDS[outlet].language)], time.time(), baseline=False)
    recorded = await stories.record_entry(world.db, stored.id, stored.entry.alert_key, matches,
                                          time.time(), story_id=story_id)
    world.deliverer.notify()
    return recorded.story_id


async def test_a_later_entry_matching_another_topic_of_the_chat_adds_it_to_the_message(world):
    api = world.api
    await subscribe(world.db, READER, "strikes")
    await subscribe(world.db, READER, "bryansk")
    # The BBC's report matched strikes only; Le Monde's copy matches Bryansk too.
    story = await place(world, STRIKE_EN, None, [("strikes", ("missiles",))])
    await world.deliver()
    [alert] = alerts(api, READER)
    assert parse_telegram_html(alert.text).startswith("Long-range strikes\n")
    assert [data for _, data in buttons(alert.reply_markup)] == [f"story:{story}", "mute:1"]

    await place(world, STRIKE_FR, story, [("strikes", ("missiles",)), ("bryansk", ("briansk",))])
    await world.deliver()
    [edit] = api.edits_of(READER)
    shown = api.text_of(READER, alert.message_id)
    assert shown.startswith("Long-range strikes · Bryansk\n")
    assert buttons(edit.params["reply_markup"]) == [
        ("📰 Story coverage", f"story:{story}"), ("🔕 Mute Long-range strikes", "mute:1"),
        ("🔕 Mute Bryansk", "mute:2")]
    # the line is Le Monde's title in English, linked to its article
    assert '">SCALP-EG missile strike on an arsenal in Bryansk</a> — Le Monde (fr) ' \
        in edit.params["text"]


async def test_buttons_stay_the_same_across_edits_whatever_the_new_entry_matched(world):
    api = world.api
    await subscribe(world.db, READER, "strikes")
    await subscribe(world.db, READER, "bryansk")
    story = await place(world, STRIKE_FR, None,
                        [("strikes", ("missiles",)), ("bryansk", ("briansk",))])
    await world.deliver()
    [alert] = alerts(api, READER)
    # later entries match one topic or the other, never both
    await place(world, STRIKE_EN, story, [("bryansk", ("bryansk",))])
    await world.deliver()
    await place(world, STRIKE_RU, story, [("strikes", ("ракет*",))])
    await world.deliver()
    edits = api.edits_of(READER)
    assert len(edits) == 2
    assert [buttons(e.params["reply_markup"]) for e in edits] == [buttons(alert.reply_markup)] * 2
    assert all(label.strip() != "🔕 Mute" for label, _ in buttons(alert.reply_markup))
    assert api.text_of(READER, alert.message_id).startswith("Long-range strikes · Bryansk\n")


async def test_a_chat_that_muted_the_story_gets_no_edit_and_no_reply(world):
    api = world.api
    await subscribe(world.db, READER, "strikes")
    await ensure_chat(world.db, DESK, "private", "desk", "fr")
    await subscribe(world.db, DESK, "strikes")
    await world.publish(STRIKE_FR)
    await world.deliver()
    [alert] = alerts(api, READER)
    await world.publish(STRIKE_EN)  # queued for both chats: an edit and a reply each
    await unsubscribe(world.db, READER, "strikes")  # muted before they are sent
    await world.deliver()
    await world.publish(STRIKE_RU)  # and after
    await world.deliver()
    assert api.edits_of(READER) == [] and replies(api, READER) == []
    assert len(api.sent_to(READER)) == 1
    assert api.text_of(READER, alert.message_id) == parse_telegram_html(alert.text)
    # the chat that still follows it hears everything
    assert len(api.edits_of(DESK)) >= 1 and len(replies(api, DESK)) == 2
    await unsubscribe_all(world.db, DESK)
    before = (len(api.edits_of(DESK)), len(api.sent_to(DESK)))
    [story] = {row[0] for row in await world.db.fetchall("SELECT story_id FROM story_entries")}
    await place(world, STRIKE_EN, story, [("strikes", ("missiles",))])
    await world.deliver()
    assert (len(api.edits_of(DESK)), len(api.sent_to(DESK))) == before


async def test_a_story_reaches_a_chat_only_at_its_third_outlet_carrying_the_coverage_so_far(
        world):
    api = world.api
    await subscribe(world.db, READER, "strikes")
    await set_coverage(world.db, READER, CoverageSetting("grow", outlets=3))
    await ensure_chat(world.db, DESK, "private", "desk", "fr")
    await subscribe(world.db, DESK, "strikes")
    await set_coverage(world.db, DESK, CoverageSetting("each", languages=2))
    await ensure_chat(world.db, BUREAU, "private", "bureau", "ru")
    await subscribe(world.db, BUREAU, "strikes")
    await set_coverage(world.db, BUREAU, CoverageSetting("grow", outlets=2, languages=3))
    story = await place(world, STRIKE_FR, None, [("strikes", ("missiles",))])
    await world.deliver()
    assert api.sent_to(READER) == [] and api.sent_to(DESK) == []
    await place(world, STRIKE_EN, story, [("strikes", ("missiles",))])
    await world.deliver()
    assert api.sent_to(READER) == [] and api.sent_to(BUREAU) == []  # not yet
    [first] = api.sent_to(DESK)  # two languages: the desk's condition is met
    shown = parse_telegram_html(first.text)
    assert "Aussi couvert par\u00a0:" in shown and "Le Monde (fr)" in shown
    assert "2 médias · 2 langues" in shown

    await place(world, STRIKE_RU, story, [("strikes", ("ракет*",))])
    await world.deliver()
    [alert] = api.sent_to(READER)
    shown = parse_telegram_html(alert.text)
    assert shown.startswith("Long-range strikes\n")
    assert "Ukrainian forces fired 12 Storm Shadow missiles" in shown  # TASS's, in English
    lines = shown[shown.index("Also covered by:"):].splitlines()
    assert lines[1].startswith("SCALP-EG missile strike on an arsenal in Bryansk — Le Monde (fr)")
    assert lines[2].startswith("Ukraine fires 12 Storm Shadow missiles at Bryansk arsenal — "
                               "BBC (en)")
    assert lines[3] == "3 outlets · 3 languages"
    assert replies(api, READER) == []  # no "now in" reply for languages it never saw go by
    [bureau] = api.sent_to(BUREAU)  # the third language
    shown = parse_telegram_html(bureau.text)
    assert "ВСУ выпустили 12 ракет Storm Shadow" in shown  # TASS's own title, untranslated
    assert "Также пишут:" in shown and "3 издания · 3 языка" in shown
    assert "— Le Monde (fr) " in shown and "— BBC (en) " in shown
    # the desk's next message is the entry alone with the story's count
    assert "Événement\u00a0: 3 médias · 3 langues" in parse_telegram_html(
        api.sent_to(DESK)[-1].text)

    # from there the reader's message grows as usual
    await place(world, STRIKE_FR, story, [("strikes", ("missiles",))])
    await world.deliver()
    [edit] = api.edits_of(READER)
    assert edit.params["message_id"] == alert.message_id
    assert "3 outlets · 3 languages" in api.text_of(READER, alert.message_id)
    assert len(alerts(api, READER)) == 1


async def test_a_story_too_long_for_one_message_folds_its_oldest_lines_into_more(world):
    api = world.api
    await subscribe(world.db, READER, "strikes")
    story = await place(world, STRIKE_EN, None, [("strikes", ("missiles",))])
    await world.deliver()
    [alert] = alerts(api, READER)
    _, title, summary, _ = STRIKE_EN
    for n in range(60):
        await place(world, ("BBC", f"{title} — update {n} " + "details " * 12, summary, None),
                    story, [("strikes", ("missiles",))])
    await world.deliver()
    shown = api.text_of(READER, alert.message_id)
    assert len(shown.encode("utf-16-le")) // 2 <= 4096
    folded = next(line for line in shown.splitlines() if line.startswith("+"))
    assert folded.endswith(f"more: /story {story}")
    assert "update 59" in shown and "update 0 " not in shown  # newest last, oldest folded
    assert replies(api, READER) == []
