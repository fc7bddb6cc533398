"""Bot admin commands end to end through python-telegram-bot and the fake Bot API:
the ACL, topics, feeds, /export and /import, /test and /stats."""

import tomllib

import pytest

from bot.feeds.opml import OpmlOutline, read_opml, write_opml
from bot.model import Topic
from bot.store import chats, feeds, topics
from tests.fakes.telegram_app import ADMIN, USER, StubTranslator, running_bot

TROOPS = Topic("troops", "Western troops in Ukraine", {"en": "troops AND ukraine"})

ADMIN_COMMANDS = [
    "/addtopic troops Troops\nen: troops",
    "/setquery troops en soldiers",
    "/deltopic troops",
    "/addfeed http://lemonde.test/rss fr Le Monde",
    "/delfeed http://bbc.test/rss",
    "/feeds",
    "/export",
    "/import fr",
    "/stats",
    "/test troops troops in ukraine",
]


async def state(bot):
    return (await topics.list_topics(bot.db), await feeds.list_feeds(bot.db))


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
async def test_anyone_else_is_refused_and_nothing_changes(tmp_path, command):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        await feeds.add_feed(bot.db, "http://bbc.test/rss", "en", "BBC")
        before = await state(bot)
        assert await bot.ask(command) == "This command is for the bot's admins."
        assert await state(bot) == before and bot.changes == [] and bot.api.documents == []


async def test_a_non_admin_import_document_is_refused(tmp_path):
    async with running_bot(tmp_path) as bot:
        opml = write_opml([OpmlOutline("http://bbc.test/rss", "BBC", "en")])
        before = len(bot.api.sent_to(USER))
        bot.api.inject_document(USER, "private", USER, "f1", opml, caption="/import en")
        await bot.until(lambda: len(bot.api.sent_to(USER)) > before)
        assert "admins" in bot.api.texts_to(USER)[-1]
        assert await feeds.list_feeds(bot.db) == []


async def test_addtopic_stores_the_topic_and_fills_left_out_languages(tmp_path):
    translator = StubTranslator({"fr": {"troops": "troupes", "ukraine": "ukraine"},
                                 "ru": {"troops": "войска", "ukraine": "украина"}})
    async with running_bot(tmp_path, translator=translator) as bot:
        reply = await bot.ask("/addtopic troops Western troops in Ukraine\n"
                              "en: troops AND ukraine", chat_id=ADMIN)
        assert "Topic troops created: Western troops in Ukraine" in reply
        assert "fr: troupes AND ukraine (translated from en)" in reply
        assert "ru: войска AND украина (translated from en)" in reply
        assert await topics.get_topic(bot.db, "troops") == Topic(
            "troops", "Western troops in Ukraine",
            {"en": "troops AND ukraine", "fr": "troupes AND ukraine",
             "ru": "войска AND украина"},
            # the title as written, in the admin's language, and translated
            {"en": "Western troops in Ukraine", "fr": "Western troupes in ukraine",
             "ru": "Western войска in украина"})
        assert bot.changes == ["topics"]
        assert "already exists" in await bot.ask("/addtopic troops Again\nen: x", chat_id=ADMIN)


async def test_addtopic_without_translator_keeps_what_was_given(tmp_path):
    async with running_bot(tmp_path) as bot:
        reply = await bot.ask("/addtopic gas Gas\nfr: gaz\nru: газ", chat_id=ADMIN)
        assert "en: not translated" in reply
        assert (await topics.get_topic(bot.db, "gas")).queries == {"fr": "gaz", "ru": "газ"}


async def test_addtopic_shows_the_query_parser_error_verbatim(tmp_path):
    from bot.matching.query import QueryError, parse_query

    with pytest.raises(QueryError) as error:
        parse_query("(troops AND", "en")
    async with running_bot(tmp_path) as bot:
        reply = await bot.ask("/addtopic troops Troops\nen: (troops AND", chat_id=ADMIN)
        assert reply == f"en query refused: {error.value}"
        assert "position" in reply
        assert await topics.list_topics(bot.db) == [] and bot.changes == []


@pytest.mark.parametrize("text, expected", [
    ("/addtopic", "Usage: /addtopic"),
    ("/addtopic Bad_Name! Title\nen: x", "is not a valid topic name"),
    ("/addtopic troops", "Add the words to look for after the name"),
    ("/addtopic troops Troops\nde: truppen", "is not a LANG: QUERY line"),
])
async def test_addtopic_form_errors_get_a_clear_line(tmp_path, text, expected):
    async with running_bot(tmp_path) as bot:
        assert expected in await bot.ask(text, chat_id=ADMIN)
        assert await topics.list_topics(bot.db) == []


async def test_setquery_replaces_one_language_and_refuses_a_bad_query(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        assert "troops, fr: troupes OR soldats" in await bot.ask(
            "/setquery troops fr troupes OR soldats", chat_id=ADMIN)
        assert "fr query refused" in await bot.ask("/setquery troops fr OR", chat_id=ADMIN)
        assert (await topics.get_topic(bot.db, "troops")).queries["fr"] == "troupes OR soldats"
        assert "Unknown topic" in await bot.ask("/setquery nope en x", chat_id=ADMIN)
        assert (await bot.ask("/setquery troops", chat_id=ADMIN)).startswith("Usage")


async def test_deltopic_removes_the_topic_and_its_subscriptions(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        await chats.ensure_chat(bot.db, USER, "private", "", "en")
        await chats.subscribe(bot.db, USER, "troops")
        assert "deleted" in await bot.ask("/deltopic troops", chat_id=ADMIN)
        assert await chats.subscriptions(bot.db, USER) == []
        assert "Unknown topic" in await bot.ask("/deltopic troops", chat_id=ADMIN)


async def test_test_says_whether_and_on_which_terms(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, Topic("troops", "T", {"en": "troops AND ukraine",
                                                             "fr": "troupes"}))
        reply = await bot.ask("/test troops British troops arrive in Ukraine", chat_id=ADMIN)
        assert "en: yes, on troops, ukraine" in reply and "fr: no" in reply


async def test_addfeed_refuses_private_addresses_unless_allowed(tmp_path):
    async with running_bot(tmp_path, allow_private_addresses=False) as bot:
        reply = await bot.ask("/addfeed http://127.0.0.1:8080/rss en Local", chat_id=ADMIN)
        assert reply.startswith("Refused:") and "127.0.0.1" in reply
        assert "is not an http(s) URL" in await bot.ask("/addfeed ftp://x/rss en", chat_id=ADMIN)
        assert await feeds.list_feeds(bot.db) == [] and bot.changes == []


async def test_addfeed_feeds_delfeed(tmp_path):
    async with running_bot(tmp_path) as bot:
        reply = await bot.ask("/addfeed http://127.0.0.1:8080/rss fr Le Monde Inter",
                              chat_id=ADMIN)
        assert "Feed added: Le Monde Inter [fr]" in reply
        assert "already there" in await bot.ask("/addfeed http://127.0.0.1:8080/rss fr",
                                                chat_id=ADMIN)
        listing = await bot.ask("/feeds", chat_id=ADMIN)
        assert "Le Monde Inter [fr] http://127.0.0.1:8080/rss" in listing
        assert "last success: never" in listing and "entries seen: 0" in listing
        assert "Feed removed" in await bot.ask("/delfeed http://127.0.0.1:8080/rss",
                                               chat_id=ADMIN)
        assert await feeds.list_feeds(bot.db) == []
        assert bot.changes == ["feeds", "feeds"]
        assert (await bot.ask("/addfeed http://x/rss de", chat_id=ADMIN)).startswith("Usage")


async def test_export_sends_feeds_as_opml_and_topics_as_toml(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        await feeds.add_feed(bot.db, "https://www.lemonde.fr/rss/une.xml?x=1&y=2", "fr",
                             "Le Monde · À la une")
        bot.api.inject_message(ADMIN, "private", ADMIN, "/export")
        opml, toml = await bot.documents(ADMIN, 2)
        assert opml.filename.endswith(".opml") and toml.filename.endswith(".toml")
        [feed] = read_opml(opml.data)
        assert (feed.url, feed.title, feed.language) == (
            "https://www.lemonde.fr/rss/une.xml?x=1&y=2", "Le Monde · À la une", "fr")
        assert tomllib.loads(toml.data.decode())["topics"] == [
            {"name": "troops", "title": "Western troops in Ukraine", "en": "troops AND ukraine"}]
        assert opml.caption == "Feeds: 1" and toml.caption == "Topics: 1"


async def test_import_counts_added_skipped_and_refused(tmp_path):
    async with running_bot(tmp_path, allow_private_addresses=False) as bot:
        await feeds.add_feed(bot.db, "http://151.101.1.1/known.rss", "en")
        opml = write_opml([OpmlOutline("http://151.101.1.1/known.rss", "Known", "en"),
                           OpmlOutline("http://8.8.8.8/new.rss", "New", "en"),
                           OpmlOutline("http://93.184.216.34/other.rss", "Other", ""),
                           OpmlOutline("http://10.0.0.1/private.rss", "Private", ""),
                           OpmlOutline("javascript:alert(1)", "Bad", ""),
                           # Malformed: urllib raises on these; they refuse only themselves.
                           OpmlOutline("http://[::1/x", "Broken", ""),
                           OpmlOutline("http://8.8.8.8:99999/port.rss", "Port", "")])
        bot.api.inject_document(ADMIN, "private", ADMIN, "f1", opml, caption="/import ru")
        await bot.until(lambda: bot.api.sent_to(ADMIN))
        reply = bot.api.texts_to(ADMIN)[-1]
        assert reply.startswith("Import: 2 added, 1 skipped (already there), 4 refused.")
        assert "http://10.0.0.1/private.rss: private address 10.0.0.1" in reply
        assert "javascript:alert(1): not an http(s) URL" in reply
        assert "http://[::1/x: not an http(s) URL" in reply
        assert "http://8.8.8.8:99999/port.rss: not an http(s) URL" in reply
        added = {f.url: f for f in await feeds.list_feeds(bot.db)}
        assert added["http://8.8.8.8/new.rss"].language == "ru"
        assert added["http://8.8.8.8/new.rss"].name == "New"
        assert bot.changes == ["feeds"]


async def test_import_refuses_a_doctype_and_needs_a_language(tmp_path):
    async with running_bot(tmp_path) as bot:
        evil = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body><outline xmlUrl="&a;"/></body></opml>'
        bot.api.inject_document(ADMIN, "private", ADMIN, "f1", evil, caption="/import en")
        await bot.until(lambda: bot.api.sent_to(ADMIN))
        assert "DOCTYPE" in bot.api.texts_to(ADMIN)[-1]
        bot.api.inject_document(ADMIN, "private", ADMIN, "f2", b"<opml/>", caption="/import")
        await bot.until(lambda: len(bot.api.sent_to(ADMIN)) == 2)
        assert bot.api.texts_to(ADMIN)[-1].startswith("Send an OPML file")
        assert (await bot.ask("/import fr", chat_id=ADMIN)).startswith("Send an OPML file")
        assert await feeds.list_feeds(bot.db) == []


async def test_stats_counts_everything(tmp_path):
    async with running_bot(tmp_path, translator=StubTranslator(hit_rate=0.5)) as bot:
        await topics.add_topic(bot.db, TROOPS)
        await feeds.add_feed(bot.db, "http://bbc.test/rss", "en")
        await chats.ensure_chat(bot.db, USER, "private", "", "en")
        await chats.subscribe(bot.db, USER, "troops")
        reply = await bot.ask("/stats", chat_id=ADMIN)
        for line in ("Feeds: 1", "Topics: 1", "Subscribed chats: 1",
                     "Alerts sent in the last 24 h: 0", "Alerts waiting to be sent: 0",
                     "Translation cache hit rate: 50%"):
            assert line in reply


async def test_changing_a_config_topic_warns_that_the_file_wins_at_restart(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.sync_config_topics(bot.db, [TROOPS])
        reply = await bot.ask("/setquery troops en soldiers", chat_id=ADMIN)
        assert "comes from the config file" in reply
