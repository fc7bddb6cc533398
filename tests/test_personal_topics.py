"""Personal topics (bot.personal_topics) end to end through python-telegram-bot, the fake
Bot API and the fake LibreTranslate: made in a private chat, seen and followed only
there, and the guided /addtopic that turns plain words into confirmed queries."""

import pytest

from bot.config import ConfigError, parse_config
from bot.i18n import t
from bot.model import Topic
from bot.store import chats, topics
from bot.topics.exports import export_files
from bot.topics.personal import PERSONAL_LIMIT
from tests.fakes.newsroom import newsroom_bot, store_oreshnik_entries
from tests.fakes.telegram_app import ADMIN, USER, running_bot

OTHER = 3003
GROUP = -100500

# The words a user of each UI language types to describe the Oreshnik topic, and the
# queries the guided form should draft from them, per language.
GUIDED = {
    "en": ("Oreshnik missile", {"en": "oreshnik AND missile", "fr": "orechnik AND missile",
                                "ru": "орешник AND ракета"}),
    "fr": ("le missile Orechnik", {"fr": "missile AND orechnik", "en": "missile AND oreshnik",
                                   "ru": "ракета AND орешник"}),
    "ru": ("ракета Орешник", {"ru": "ракета AND орешник", "en": "missile AND oreshnik",
                              "fr": "missile AND orechnik"}),
}


def buttons(message) -> list[tuple[str, str]]:
    markup = message.reply_markup or {}
    return [(b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", [])
            for b in row]


async def press(bot, chat_id, user_id, data, message_id):
    before = len(bot.api.callback_answers)
    bot.api.inject_callback(chat_id, user_id, data, message_id)
    await bot.until(lambda: len(bot.api.callback_answers) > before)
    return bot.api.callback_answers[-1].params.get("text", "")


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
async def test_a_personal_topic_is_invisible_to_another_user(tmp_path, lang):
    async with running_bot(tmp_path, personal_topics=True) as bot:
        await topics.add_topic(bot.db, Topic("shared", "Shared", {"en": "nato"}))
        made = await bot.ask("/addtopic mine My own topic\nen: oreshnik", language_code=lang)
        assert t(lang, "addtopic.done", name="mine", title="My own topic") in made
        assert (await topics.get_topic(bot.db, "mine")).owner_id == USER
        # The owner sees and follows it in their private chat ...
        assert "mine" in await bot.ask("/topics")
        assert await bot.ask("/subscribe mine") == t(lang, "subscribe.done", names="mine")
        # ... no one else does, wherever they look, admins included.
        await bot.ask("/start", chat_id=OTHER, language_code=lang)
        listing = await bot.ask("/topics", chat_id=OTHER)
        assert "shared" in listing and "mine" not in listing
        unknown = t(lang, "error.unknown_topic", names="mine")
        for command in ("/subscribe mine", "/recent mine", "/trend mine", "/unsubscribe mine",
                        "/deltopic mine", "/setquery mine en x", "/settitle mine en X"):
            assert await bot.ask(command, chat_id=OTHER) == unknown, command
        # A forged subscribe button with the topic's id does not subscribe either.
        topic_id = (await topics.topic_ids(bot.db))["mine"]
        message = (await bot.send("/topics", chat_id=OTHER))[-1]
        answer = await press(bot, OTHER, OTHER, f"sub:{topic_id}", message.message_id)
        assert answer == t(lang, "topics.gone")
        assert await chats.subscriptions(bot.db, OTHER) == []
        # Its name is taken without saying by whom.
        taken = await bot.ask("/addtopic mine Mine too\nen: x", chat_id=OTHER)
        assert taken == t(lang, "personal.taken", name="mine")
        assert "mine" not in await bot.ask("/topics", chat_id=ADMIN)
        assert await bot.ask("/deltopic mine", chat_id=ADMIN) == t("en", "error.unknown_topic",
                                                                  names="mine")
        assert await topics.get_topic(bot.db, "mine") is not None  # the admin deleted nothing
        # A group sees only shared topics, and personal topics are not made there.
        group = await bot.ask("/topics", chat_id=GROUP, chat_type="supergroup", user_id=USER)
        assert "mine" not in group and "shared" in group
        refused = await bot.ask("/addtopic ours Ours\nen: x", chat_id=GROUP,
                                chat_type="supergroup", user_id=USER)
        assert refused == t("en", "personal.private_only")  # a new group speaks the default


async def test_the_owner_edits_and_deletes_only_their_own(tmp_path):
    async with running_bot(tmp_path, personal_topics=True) as bot:
        await topics.add_topic(bot.db, Topic("shared", "Shared", {"en": "nato"}))
        await bot.ask("/addtopic mine Mine\nen: oreshnik")
        assert "oreshnik OR орешник" in await bot.ask("/setquery mine ru oreshnik OR орешник")
        assert await bot.ask("/settitle mine fr Le mien") == "mine, title in fr: Le mien"
        assert await bot.ask("/deltopic shared") == "Unknown topic: shared. /topics lists them."
        assert await topics.get_topic(bot.db, "shared") is not None
        assert await bot.ask("/deltopic mine") == "Topic mine deleted, with its subscriptions."
        assert await topics.get_topic(bot.db, "mine") is None


async def test_at_most_twenty_personal_topics_a_user(tmp_path):
    async with running_bot(tmp_path, personal_topics=True) as bot:
        for n in range(PERSONAL_LIMIT):
            await topics.add_topic(bot.db, Topic(f"t{n}", "T", {"en": "x"}, owner_id=USER))
        reply = await bot.ask("/addtopic one-more One more\nen: x")
        assert reply == t("en", "personal.limit", limit=PERSONAL_LIMIT)
        assert await topics.get_topic(bot.db, "one-more") is None
        # another user still has room
        assert "created" in await bot.ask("/addtopic theirs Theirs\nen: x", chat_id=OTHER)


async def test_without_the_setting_only_admins_add_topics(tmp_path):
    async with running_bot(tmp_path) as bot:
        assert await bot.ask("/addtopic mine Oreshnik missile") == t("en", "admin.refused")
        assert await topics.list_topics(bot.db) == []


async def test_admins_topics_stay_shared(tmp_path):
    async with running_bot(tmp_path, personal_topics=True) as bot:
        await bot.ask("/addtopic shared Shared\nen: nato", chat_id=ADMIN)
        assert (await topics.get_topic(bot.db, "shared")).owner_id is None
        assert "shared" in await bot.ask("/topics", chat_id=OTHER)


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
async def test_the_guided_flow_drafts_queries_shows_the_backtest_and_waits_for_the_button(
        tmp_path, monkeypatch, lang):
    words, queries = GUIDED[lang]
    async with newsroom_bot(tmp_path, monkeypatch, personal_topics=True) as bot:
        await store_oreshnik_entries(bot.db)
        draft = (await bot.send(f"/addtopic rocket {words}", language_code=lang))[-1]
        text = draft.text
        assert text.startswith(t(lang, "guided.header", name="rocket", title=words))
        for language, query in queries.items():
            line = (t(lang, "addtopic.query", language=language, query=query) if language == lang
                    else t(lang, "addtopic.translated", language=language, query=query,
                           source=lang))
            assert line in text, (line, text)
        # the backtest: each language's query finds its one stored Oreshnik entry
        assert t(lang, "backtest.header", days=7) in text
        for language in ("en", "fr", "ru"):
            assert t(lang, "backtest.line", language=language, matched=1, searched=1
                     if language != "fr" else 2) in text
        assert t(lang, "guided.confirm") in text
        assert await topics.get_topic(bot.db, "rocket") is None  # nothing before the button
        (create, ok), (_, cancel) = buttons(draft)
        assert create == t(lang, "guided.create", name="rocket") and cancel.startswith("draft:no:")
        answer = await press(bot, USER, USER, ok, draft.message_id)
        assert answer == t(lang, "guided.created", name="rocket")
        topic = await topics.get_topic(bot.db, "rocket")
        assert topic.queries == queries and topic.owner_id == USER
        assert topic.title == words and set(topic.titles) == {"en", "fr", "ru"}
        assert bot.changes == ["topics"]
        await bot.until(lambda: t(lang, "guided.created", name="rocket")
                        in (bot.api.text_of(USER, draft.message_id) or ""))
        # The draft is used up: a second tap creates nothing more.
        assert await press(bot, USER, USER, ok, draft.message_id) == t(lang, "guided.gone")


async def test_a_guided_draft_can_be_cancelled_and_only_by_its_author(tmp_path, monkeypatch):
    async with newsroom_bot(tmp_path, monkeypatch, personal_topics=True) as bot:
        # an admin drafting a shared topic in a group: another member cannot confirm it
        bot.api.set_member(GROUP, ADMIN, "administrator")
        draft = (await bot.send("/addtopic rocket Oreshnik missile", chat_id=GROUP,
                                chat_type="supergroup", user_id=ADMIN))[-1]
        (_, ok), (_, cancel) = buttons(draft)
        assert await press(bot, GROUP, OTHER, ok, draft.message_id) == t("en", "guided.not_yours")
        assert await topics.get_topic(bot.db, "rocket") is None
        answer = await press(bot, GROUP, ADMIN, cancel, draft.message_id)
        assert answer == t("en", "guided.cancelled", name="rocket")
        assert await press(bot, GROUP, ADMIN, ok, draft.message_id) == t("en", "guided.gone")
        assert await topics.get_topic(bot.db, "rocket") is None and bot.changes == []


async def test_guided_words_that_make_no_query_get_a_clear_line(tmp_path):
    async with running_bot(tmp_path, personal_topics=True) as bot:
        assert await bot.ask("/addtopic rocket") == t("en", "guided.no_words")
        assert await bot.ask("/addtopic rocket ,;") == t("en", "guided.no_words")


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
async def test_help_takes_its_example_from_a_shared_topic_of_the_deployment(tmp_path, lang):
    async with running_bot(tmp_path, personal_topics=True) as bot:
        empty = await bot.ask("/help", language_code=lang)
        assert empty.startswith(t(lang, "help.intro_no_topics").strip())
        assert "troops-ukraine" not in empty
        await topics.add_topic(bot.db, Topic("mine", "Mine", {"en": "x"}, owner_id=USER))
        await bot.ask("/subscribe mine")
        assert (await bot.ask("/help")).startswith(t(lang, "help.intro_no_topics").strip())
        await topics.add_topic(bot.db, Topic("gas", "Gas", {"en": "gas"}, {"fr": "Gaz"}))
        shown = await bot.ask("/help")
        assert shown.startswith(t(lang, "help.intro", name="gas",
                                  title="Gaz" if lang == "fr" else "Gas").strip())
        assert "/subscribe gas" in shown and "/subscribe mine" not in shown


def test_the_setting_is_off_by_default_and_must_be_a_boolean():
    assert parse_config({}, {}).bot.personal_topics is False
    assert parse_config({"bot": {"personal_topics": True}}, {}).bot.personal_topics is True
    with pytest.raises(ConfigError) as refused:
        parse_config({"bot": {"personal_topics": "yes"}}, {})
    assert refused.value.problems == ["bot.personal_topics: expected boolean, got 'yes'"]


async def test_export_leaves_personal_topics_out(tmp_path):
    async with running_bot(tmp_path, personal_topics=True) as bot:
        await topics.add_topic(bot.db, Topic("shared", "Shared", {"en": "nato"}))
        await topics.add_topic(bot.db, Topic("mine", "Mine", {"en": "x"}, owner_id=USER))
        _, _, toml, count = await export_files(bot.db)
        assert count == 1 and b'"shared"' in toml and b'"mine"' not in toml
