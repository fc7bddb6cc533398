"""/story by id, as a reply and as the alert's button; /coverage; story ids in /recent."""

from __future__ import annotations

from bot.fanout import CoverageSetting
from bot.store import chats, stories
from tests.fakes.bot_api import BOT_ID, parse_telegram_html
from tests.fakes.telegram_app import USER, running_bot

GROUP = -100777


async def _story(bot) -> int:
    """A story of two entries (Le Monde, BBC); France 24 has no entry; the topic has no
    Russian query, so TASS is not expected to cover it."""
    async with bot.db.transaction() as conn:
        await conn.execute("INSERT INTO topics (id, name, title, created_at, updated_at) "
                           "VALUES (1, 'strikes', 'Strikes', 0, 0)")
        for language, query in (("fr", "missiles"), ("en", "missiles")):
            await conn.execute("INSERT INTO topic_queries VALUES (1, ?, ?)", (language, query))
        for fid, url, language, name in ((1, "http://lemonde.test/rss", "fr", "Le Monde"),
                                         (2, "http://bbc.test/rss", "en", "BBC"),
                                         (3, "http://tass.test/rss", "ru", "TASS"),
                                         (4, "http://france24.test/rss", "fr", "France 24")):
            await conn.execute("INSERT INTO feeds (id, url, language, name, created_at) "
                               "VALUES (?, ?, ?, ?, 0)", (fid, url, language, name))
        for eid, fid, language, title in ((1, 1, "fr", "Des missiles sur Briansk"),
                                          (2, 2, "en", "Missiles hit Bryansk")):
            await conn.execute(
                "INSERT INTO entries (id, feed_id, key, alert_key, link, title, summary, "
                "language, published_at, first_seen_at, last_seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?, '', ?, 1700000000, 0, 0)",
                (eid, fid, f"k{eid}", f"http://x.test/{eid}", f"http://x.test/{eid}", title,
                 language))
    await chats.ensure_chat(bot.db, USER, "private", "reader", "en")
    await chats.subscribe(bot.db, USER, "strikes")
    first = await stories.record_entry(bot.db, 1, "http://x.test/1", [("strikes", ["missiles"])],
                                       1.0)
    await stories.record_entry(bot.db, 2, "http://x.test/2", [("strikes", ["missiles"])], 2.0,
                               story_id=first.story_id)
    return first.story_id


async def test_story_by_id_lists_entries_and_who_has_not_covered_it(tmp_path):
    async with running_bot(tmp_path) as bot:
        story = await _story(bot)
        markup = await bot.ask(f"/story {story}")
        text = parse_telegram_html(markup)
        assert text.startswith(f"Story {story} · 2 outlets · 2 languages\n"
                               "First in each language: Le Monde (fr), BBC (en)")
        # published two years before "today": each time carries its date
        assert "Le Monde (fr) Nov 14, 22:13\nDes missiles sur Briansk" in text
        assert '<a href="http://x.test/1">Des missiles sur Briansk</a>' in markup
        assert text.index("Le Monde") < text.index("BBC (en)")
        assert text.endswith("Not covered yet by: France 24")
        assert "no story 999" in (await bot.ask("/story 999")).lower()
        assert (await bot.ask("/story abc")).startswith("Usage: reply /story")


async def test_story_as_a_reply_to_its_alert_and_to_anything_else(tmp_path):
    async with running_bot(tmp_path) as bot:
        story = await _story(bot)
        async with bot.db.transaction() as conn:
            await conn.execute("UPDATE story_messages SET message_id = 41")
        text = await bot.ask("/story", reply_to=41)
        assert parse_telegram_html(text).startswith(f"Story {story} ·")
        assert "not an alert" in await bot.ask("/story", reply_to=40)
        assert (await bot.ask("/story")).startswith("Usage")


async def test_the_story_button_answers_with_the_listing_under_the_alert(tmp_path):
    async with running_bot(tmp_path) as bot:
        story = await _story(bot)
        before = len(bot.api.sent_to(USER))
        bot.api.inject_callback(USER, USER, f"story:{story}", message_id=5)
        await bot.until(lambda: len(bot.api.sent_to(USER)) > before)
        [listing] = bot.api.sent_to(USER)[before:]
        assert listing.text.startswith(f"<b>Story {story}") and listing.reply_to == 5
        assert listing.parse_mode == "HTML"
        assert bot.api.callback_answers  # the button stops spinning


async def test_coverage_mode_per_chat_refuses_bad_modes(tmp_path):
    async with running_bot(tmp_path) as bot:
        assert "Coverage: each" in await bot.ask("/coverage each")
        assert await chats.chat_coverage(bot.db, USER) == "each"
        assert "Coverage: grow" in await bot.ask("/coverage GROW")
        assert await chats.chat_coverage(bot.db, USER) == "grow"
        assert (await bot.ask("/coverage sometimes")).startswith("Usage: /coverage grow|each")
        assert (await bot.ask("/coverage")).startswith("Usage")


async def test_a_failing_feed_is_not_named_among_those_that_have_not_covered_it(tmp_path):
    async with running_bot(tmp_path) as bot:
        story = await _story(bot)
        async with bot.db.transaction() as conn:
            await conn.execute("UPDATE feeds SET failing_since = 1, last_error = 'HTTP 503' "
                               "WHERE name = 'France 24'")
        text = parse_telegram_html(await bot.ask(f"/story {story}"))
        assert "France 24" not in text
        assert text.endswith("Every outlet with a query for its topics has covered it.")


async def test_coverage_conditions_are_stored_and_answered_in_the_chats_language(tmp_path):
    async with running_bot(tmp_path) as bot:
        answer = await bot.ask("/coverage grow outlets 3")
        assert answer.startswith("Coverage: grow.")
        assert answer.endswith("A story reaches it only once it has at least 3 outlets.")
        assert await chats.coverage_setting(bot.db, USER) == CoverageSetting("grow", 3, 1)
        answer = await bot.ask("/coverage each languages 2 outlets 2")
        assert answer.endswith("only once it has at least 2 outlets and at least 2 languages.")
        assert await chats.coverage_setting(bot.db, USER) == CoverageSetting("each", 2, 2)
        await bot.ask("/language fr")
        answer = await bot.ask("/coverage grow languages 2")
        assert answer.endswith("Un événement n'y arrive qu'une fois qu'il compte au moins "
                               "2 langues.")
        await bot.ask("/language ru")
        answer = await bot.ask("/coverage grow outlets 5 languages 2")
        assert answer.endswith("только когда у него будет не менее 5 изданий и 2 языков.")
        assert "не менее" not in await bot.ask("/coverage grow")  # a mode alone: no condition
        assert await chats.coverage_setting(bot.db, USER) == CoverageSetting("grow", 1, 1)


async def test_coverage_conditions_refuse_what_they_cannot_mean(tmp_path):
    async with running_bot(tmp_path) as bot:
        await bot.ask("/coverage each outlets 2")
        assert (await bot.ask("/coverage grow languages 4")) == \
            "“4” after languages: give a whole number from 1 to 3."
        assert "from 1 to 100" in await bot.ask("/coverage grow outlets 0")
        assert "“x”" in await bot.ask("/coverage grow outlets x")
        for bad in ("/coverage grow outlets", "/coverage grow outlets 2 outlets 3",
                    "/coverage grow sources 2", "/coverage outlets 2"):
            assert (await bot.ask(bad)).startswith("Usage: /coverage grow|each [outlets N]"), bad
        assert await chats.coverage_setting(bot.db, USER) == CoverageSetting("each", 2, 1)


async def test_recent_names_each_entrys_story(tmp_path):
    async with running_bot(tmp_path) as bot:
        story = await _story(bot)
        text = await bot.ask("/recent strikes")
        assert text.count(f"Story {story} (/story {story})") == 2


async def test_a_channel_admin_sets_the_channels_coverage_and_its_button_answers_privately(
        tmp_path):
    channel = -1009001
    async with running_bot(tmp_path) as bot:
        story = await _story(bot)
        bot.api.add_chat(channel, "channel", "Desk News", username="desknews")
        bot.api.set_member(channel, BOT_ID, "administrator")
        bot.api.set_member(channel, USER, "administrator")
        assert "@desknews: each" in await bot.ask("/coverage each @desknews")
        assert await chats.chat_coverage(bot.db, channel) == "each"
        assert await chats.chat_coverage(bot.db, USER) == "grow"  # this chat untouched

        # A tap under a channel post answers the one who tapped, not every subscriber.
        bot.api.inject_callback(channel, USER, f"story:{story}", message_id=9,
                                chat_type="channel")
        await bot.until(lambda: bot.api.callback_answers)
        answer = bot.api.callback_answers[-1].params
        assert answer["show_alert"] is True and answer["text"].startswith(f"Story {story}")
        assert len(answer["text"]) <= 200
        assert bot.api.sent_to(channel) == []
