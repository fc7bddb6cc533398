"""Who hears of a story's entry and how (pure), its coverage lines, and the stored stories."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from bot.fanout import (
    BadCoverage,
    CoverageSetting,
    Edit,
    Reply,
    Send,
    Spread,
    StoryChat,
    Subscriber,
    parse_coverage,
    plan_delivery,
)
from bot.message_text import telegram_length
from bot.store import chats, stories
from bot.store.chats import migrate_chat
from bot.stories.render import (
    CoverageItem,
    Room,
    count_line,
    coverage_block,
    language_reply,
    new_lines,
    story_listing,
)
from tests.fakes.alert_world import add_entry, add_feed, add_subscriber, add_topic_named, open_db
from tests.fakes.bot_api import parse_telegram_html

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


def test_a_chat_that_left_the_storys_topics_gets_nothing_more():
    plan = plan_delivery([], [StoryChat(1, "grow", following=False), StoryChat(2, "grow")],
                         new_language=True)
    assert plan == [Edit(2), Reply(2)]


def test_a_condition_holds_a_story_back_until_its_spread_reaches_it():
    subs = [Subscriber(1, 10, None, "grow", outlets=3), Subscriber(2, 10, None, "each",
                                                                    languages=2)]
    assert plan_delivery(subs, [], False, Spread(2, 1)) == []
    assert plan_delivery(subs, [], False, Spread(2, 2)) == [Send(2, 10, None, False)]
    assert plan_delivery(subs, [], False, Spread(3, 2)) == [
        Send(1, 10, None, True), Send(2, 10, None, False)]
    # once the chat has the story's message, it grows whatever the condition
    assert plan_delivery(subs[:1], [StoryChat(1, "grow")], False, Spread(1, 1)) == [Edit(1)]


def test_coverage_arguments_read_in_any_order_and_refuse_the_rest():
    assert parse_coverage(["GROW"]) == CoverageSetting("grow", 1, 1)
    assert parse_coverage(["each", "languages", "2", "outlets", "4"]) == \
        CoverageSetting("each", 4, 2)
    for words in ([], ["often"], ["grow", "outlets"], ["grow", "outlets", "2", "outlets", "3"],
                  ["grow", "authors", "2"]):
        with pytest.raises(BadCoverage) as refused:
            parse_coverage(words)
        assert refused.value.key == "coverage.usage"
    for value in ("0", "4", "٣", "99999", "-1"):
        with pytest.raises(BadCoverage) as refused:
            parse_coverage(["grow", "languages", value])
        assert refused.value.key == "coverage.bad_number"


def test_counts_use_each_languages_plural():
    items = [CoverageItem("A", "fr", T0), CoverageItem("B", "en", T0),
             CoverageItem("B", "en", T0)]
    assert count_line(items, "en") == "2 outlets · 2 languages"
    assert count_line(items[:1], "en") == "1 outlet · 1 language"
    assert count_line(items, "ru") == "2 издания · 2 языка"
    many = [CoverageItem(f"o{n}", "ru", T0) for n in range(5)]
    assert count_line(many, "ru") == "5 изданий · 1 язык"


def test_coverage_block_lists_the_others_newest_last_as_linked_titles_escaped():
    others = [CoverageItem("TASS", "ru", T0 + 2400, "Удар по Брянску", "https://tass.ru/1"),
              CoverageItem("BBC <World>", "en", T0, "Strike & more", "https://bbc.co.uk/a?x=1&y=2")]
    block = coverage_block(others, others, 7, "en", now=T0)
    assert block.splitlines()[1:3] == [
        '<a href="https://bbc.co.uk/a?x=1&amp;y=2">Strike &amp; more</a> — '
        'BBC &lt;World&gt; (en) 22:13',
        '<a href="https://tass.ru/1">Удар по Брянску</a> — TASS (ru) 22:53']
    assert coverage_block([], others, 7, "en") == ""
    # a linkless entry is named, not linked
    bare = coverage_block([CoverageItem("RT", "ru", T0, "Без ссылки", "")], others, 7, "en",
                          now=T0)
    assert "Без ссылки — RT (ru) 22:13" in bare and "<a " not in bare


def test_a_line_carries_its_date_when_it_is_not_from_today_in_the_chats_zone():
    from zoneinfo import ZoneInfo
    item = CoverageItem("Le Monde", "fr", T0, "Frappe", "https://lemonde.fr/1")
    two_days_later = T0 + 2 * 86400
    assert "Le Monde (fr) Nov 14, 22:13" in coverage_block([item], [item], 1, "en",
                                                          now=two_days_later)
    assert "Le Monde (fr) 14 nov. 22:13" in coverage_block([item], [item], 1, "fr",
                                                           now=two_days_later)
    # 22:13 UTC is already the next day in Moscow, and so is "now" an hour later
    moscow = coverage_block([item], [item], 1, "ru", ZoneInfo("Europe/Moscow"), now=T0 + 3600)
    assert "Le Monde (fr) 01:13" in moscow


def test_the_oldest_lines_fold_into_more_with_the_story_id_within_the_room():
    crowd = [CoverageItem(f"Outlet {n}", "en", T0 + n, f"Title {n}", f"https://o{n}.test/")
             for n in range(500)]
    small = coverage_block(crowd, crowd, 42, "en", now=T0, room=Room(text=400))
    plain = parse_telegram_html(small)
    assert telegram_length(plain) <= 400
    assert "Title 499 — Outlet 499" in plain and "Title 0 —" not in plain
    folded = plain.splitlines()[1]
    assert folded.startswith("+") and folded.endswith("more: /story 42")
    shown = len([line for line in plain.splitlines() if " — Outlet " in line])
    assert folded == f"+{500 - shown} more: /story 42"
    # Telegram applies 100 entities at most: links beyond fold too
    assert small.count("<a ") <= 98
    many = coverage_block(crowd, crowd, 42, "en", now=T0)
    assert many.count("<a ") <= 98 and "+" in many
    assert coverage_block(crowd, crowd, 42, "en", now=T0, room=Room(text=30)) is None


def test_the_fallback_reply_is_the_new_lines_only():
    items = [CoverageItem("BBC", "en", T0, "Strike", "https://bbc.test/1")]
    reply = new_lines(items, 3, "en", now=T0)
    assert reply == '<a href="https://bbc.test/1">Strike</a> — BBC (en) 22:13'
    assert new_lines([], 3, "en") is None


def test_language_reply_and_listing():
    assert language_reply("ru", ["TASS", "RT", "TASS"], "en") == "Now in Russian: TASS, RT"
    items = [CoverageItem("BBC", "en", T0 + 60, "Missiles & more", "https://bbc.test/1"),
             CoverageItem("Le Monde", "fr", T0, "Des missiles", "https://lemonde.test/1"),
             CoverageItem("France 24", "fr", T0 + 120, "Missiles", "https://f24.test/1")]
    text = story_listing(7, items, ["RT"], "fr", now=T0 + 3 * 86400)
    plain = parse_telegram_html(text)
    assert plain.startswith("Événement 7 · 3 médias · 2 langues\n"
                            "Premier dans chaque langue\u00a0: Le Monde (fr), BBC (en)")
    assert "Le Monde (fr) 14 nov. 22:13\nDes missiles" in plain
    assert plain.index("Le Monde (fr)") < plain.index("BBC (en) 14 nov. 22:14")
    assert '<a href="https://bbc.test/1">Missiles &amp; more</a>' in text
    assert plain.endswith("Pas encore couvert par\u00a0: RT")


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
    await chats.set_coverage(db, -5, CoverageSetting("each", outlets=3, languages=2))
    await migrate_chat(db, -5, -1005)
    assert await chats.coverage_setting(db, -1005) == CoverageSetting("each", 3, 2)
    moved = await stories.story_message(db, story, -1005)
    assert moved is not None and not moved.editable  # its coverage now goes as replies
    await db.close()
