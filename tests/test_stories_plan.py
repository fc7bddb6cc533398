"""Who hears of a story's entry and how (pure), its coverage lines, and the stored stories."""

from __future__ import annotations

import pytest

from bot.alerts.render import telegram_length
from bot.config import ConfigError, parse_config
from bot.store import chats, stories
from bot.store.chats import migrate_chat
from bot.stories.fanout import Edit, Reply, Send, StoryChat, Subscriber, plan_delivery
from bot.stories.render import (
    CoverageItem,
    ListedEntry,
    count_line,
    coverage_block,
    language_reply,
    story_listing,
)
from tests.fakes.alert_world import add_entry, add_feed, add_subscriber, add_topic_named, open_db

T0 = 1_700_000_000.0  # 22:13 UTC


def test_a_chat_following_two_matched_topics_gets_one_message():
    subs = [Subscriber(1, 10, None, "grow"), Subscriber(1, 11, None, "grow"),
            Subscriber(2, 11, 7, "each")]
    assert plan_delivery(subs, [], new_language=False) == [
        Send(1, 10, None, starts_story_message=True), Send(2, 11, 7, starts_story_message=False)]


def test_a_chat_with_the_story_message_gets_an_edit_and_a_reply_for_a_new_language():
    subs = [Subscriber(1, 10, None, "grow"), Subscriber(3, 10, None, "grow")]
    plan = plan_delivery(subs, [StoryChat(1, "grow"), StoryChat(4, "grow")], new_language=True)
    assert plan == [Edit(1), Reply(1), Edit(4), Reply(4), Send(3, 10, None, True)]
    assert Reply(1) not in plan_delivery(subs, [StoryChat(1, "grow")], new_language=False)


def test_a_chat_switched_to_each_gets_a_message_of_its_own_not_an_edit():
    plan = plan_delivery([Subscriber(1, 10, None, "each")], [StoryChat(1, "each")], True)
    assert plan == [Send(1, 10, None, starts_story_message=False)]


def test_counts_use_each_languages_plural():
    items = [CoverageItem("A", "fr", T0), CoverageItem("B", "en", T0),
             CoverageItem("B", "en", T0)]
    assert count_line(items, "en") == "2 outlets · 2 languages"
    assert count_line(items[:1], "en") == "1 outlet · 1 language"
    assert count_line(items, "ru") == "2 издания · 2 языка"
    many = [CoverageItem(f"o{n}", "ru", T0) for n in range(5)]
    assert count_line(many, "ru") == "5 изданий · 1 язык"


def test_coverage_block_lists_the_others_newest_last_escaped_and_within_budget():
    others = [CoverageItem("BBC <World>", "en", T0), CoverageItem("TASS", "ru", T0 + 2400)]
    block = coverage_block(others, others, "en")
    assert block.splitlines()[1:3] == ["BBC &lt;World&gt; (en) 22:13", "TASS (ru) 22:53"]
    assert coverage_block([], others, "en") == ""
    crowd = [CoverageItem(f"Outlet {n}", "en", T0 + n) for n in range(500)]
    small = coverage_block(crowd, crowd, "en", budget=300)
    assert telegram_length(small) < 400 and "Outlet 499" in small and "Outlet 0 " not in small


def test_language_reply_and_listing():
    assert language_reply("ru", ["TASS", "RT", "TASS"], "en") == "Now in Russian: TASS, RT"
    text = story_listing(7, [ListedEntry("BBC", "en", T0, "Missiles & more")], ["RT"], "fr")
    assert text.startswith("Événement 7 · 1 média · 1 langue")
    assert "22:13 · BBC (en)\nMissiles & more" in text
    assert text.endswith("Pas encore couvert par\u00a0: RT")


def test_stories_window_is_configurable_and_checked():
    assert parse_config({}, {}).stories.window == 48 * 3600
    assert parse_config({"stories": {"window": "6h"}}, {}).stories.window == 6 * 3600
    with pytest.raises(ConfigError) as refused:
        parse_config({"stories": {"window": "soon", "size": 3}}, {})
    assert refused.value.problems[0].startswith("stories.window: expected a duration")
    assert "stories.size: unknown key" in refused.value.problems


async def test_stories_and_their_messages_are_pruned_with_their_entries(tmp_path):
    db = await open_db(tmp_path)
    await add_topic_named(db, "troupes")
    await add_subscriber(db, 1, ["troupes"])
    feed = await add_feed(db, "https://lemonde.fr/rss", "fr", "Le Monde")
    first = await add_entry(db, feed, "https://lemonde.fr/1", "Troupes")
    second = await add_entry(db, feed, "https://lemonde.fr/2", "Troupes encore")
    one = await stories.record_entry(db, first, "https://lemonde.fr/1", [("troupes", [])], 1.0)
    two = await stories.record_entry(db, second, "https://lemonde.fr/2", [("troupes", [])], 2.0,
                                     story_id=one.story_id)
    assert (one.started, two.started, two.story_id) == (True, False, one.story_id)
    assert [e.entry_id for e in await stories.story_entries(db, one.story_id)] == [first, second]
    assert (await stories.story_message(db, one.story_id, 1)).entry_id == first
    kinds = [r[0] for r in await db.fetchall("SELECT kind FROM outbox ORDER BY id")]
    assert kinds == ["send", "edit"]
    assert await stories.open_stories(db, since=1.5) != []
    assert await stories.prune_stories(db) == 0
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM entries")
    assert await stories.prune_stories(db) == 1
    assert await stories.story_message(db, one.story_id, 1) is None
    await db.close()


async def test_a_group_that_becomes_a_supergroup_keeps_its_coverage_and_story_messages(tmp_path):
    db = await open_db(tmp_path)
    await add_topic_named(db, "troupes")
    await add_subscriber(db, -5, ["troupes"], type="group")
    await chats.set_coverage(db, -5, "grow")
    feed = await add_feed(db, "https://lemonde.fr/rss", "fr", "Le Monde")
    entry = await add_entry(db, feed, "https://lemonde.fr/1", "Troupes")
    story = (await stories.record_entry(db, entry, "https://lemonde.fr/1", [("troupes", [])],
                                        1.0)).story_id
    await chats.set_coverage(db, -5, "each")
    await migrate_chat(db, -5, -1005)
    assert await chats.chat_coverage(db, -1005) == "each"
    moved = await stories.story_message(db, story, -1005)
    assert moved is not None and not moved.editable  # its coverage now goes as replies
    await db.close()
