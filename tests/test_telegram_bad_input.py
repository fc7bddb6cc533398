"""Bad arguments to every chat command, end to end through the fake Bot API: each
gets a one-line answer that says what is expected, never the generic failure,
and long answers are split or summarised to fit Telegram's 4,096 UTF-16 units."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feeds.opml import OpmlOutline, write_opml
from bot.model import Topic
from bot.store import chats, feeds, topics
from bot.telegram.context import split_message
from tests.fakes.bot_api import telegram_length
from tests.fakes.telegram_app import ADMIN, USER, running_bot

TROOPS = Topic("troops", "Western troops in Ukraine", {"en": "troops AND ukraine"})
GENERIC_FAILURE = "Sorry, something went wrong"
LIMIT = 4096


def assert_fits(messages):
    for message in messages:
        assert telegram_length(message.text) <= LIMIT
        assert GENERIC_FAILURE not in message.text


# (command, who, what the one-line answer starts with)
BAD_ARGUMENTS = [
    ("/addfeed http://[::1/x en", ADMIN, "“http://[::1/x” is not an http(s) URL"),
    ("/addfeed http://lemonde.test:99999/x en", ADMIN, "“http://lemonde.test:99999/x” is not"),
    ("/addfeed http://lemonde.test/rss de", ADMIN, "Usage: /addfeed"),
    ("/addfeed http://lemonde.test/rss", ADMIN, "Usage: /addfeed"),
    ("/addfeed", ADMIN, "Usage: /addfeed"),
    ("/delfeed", ADMIN, "Usage: /delfeed"),
    ("/delfeed a b", ADMIN, "Usage: /delfeed"),
    ("/delfeed http://[::1/x", ADMIN, "No feed with this URL"),
    ("/recent troops ¹", USER, "Usage: /recent"),
    ("/recent troops ٣", USER, "Usage: /recent"),
    ("/recent troops 0", USER, "Usage: /recent"),
    ("/recent troops 21", USER, "Usage: /recent"),
    ("/recent troops -1", USER, "Usage: /recent"),
    ("/recent troops " + "9" * 5000, USER, "Usage: /recent"),
    ("/recent troops 2 3", USER, "Usage: /recent"),
    ("/recent", USER, "Usage: /recent"),
    ("/recent nothing", USER, "Unknown topic: nothing"),
    ("/subscribe", USER, "Usage: /subscribe"),
    ("/subscribe nothing", USER, "Unknown topic: nothing"),
    ("/unsubscribe", USER, "Usage: /unsubscribe"),
    ("/unsubscribe a b", USER, "Usage: /unsubscribe"),
    ("/unsubscribe nothing", USER, "Unknown topic: nothing"),
    ("/language", USER, "Usage: /language"),
    ("/language de", USER, "Usage: /language"),
    ("/language en fr", USER, "Usage: /language"),
    ("/mysubs everything", USER, "Usage: /mysubs"),
    ("/topics troops", USER, "Usage: /topics"),
    ("/setquery troops", ADMIN, "Usage: /setquery"),
    ("/setquery troops de troops", ADMIN, "Usage: /setquery"),
    ("/setquery nothing en troops", ADMIN, "Unknown topic: nothing"),
    ("/setquery troops en NOT troops", ADMIN, "en query refused: query matches entries"),
    ("/setquery troops en " + "a " * 600, ADMIN, "en query refused: query longer than"),
    ("/deltopic", ADMIN, "Usage: /deltopic"),
    ("/deltopic a b", ADMIN, "Usage: /deltopic"),
    ("/deltopic nothing", ADMIN, "Unknown topic: nothing"),
    ("/test troops", ADMIN, "Usage: /test"),
    ("/test nothing some text", ADMIN, "Unknown topic: nothing"),
    ("/addtopic", ADMIN, "Usage: /addtopic"),
    ("/addtopic Bad/Name Title\nen: x", ADMIN, "“Bad/Name” is not a valid topic name"),
    ("/addtopic new Title\nde: x", ADMIN, "“de: x” is not a LANG: QUERY line"),
    ("/addtopic new Title\nen: ukraine -«russie", ADMIN, "en query refused: unbalanced quote"),
    ("/stats now", ADMIN, "Usage: /stats"),
    ("/feeds all", ADMIN, "Usage: /feeds"),
    ("/export all", ADMIN, "Usage: /export"),
    ("/digest every 99999999999999999999d", USER, "Usage: /digest"),
    ("/digest daily 25:00", USER, "Usage: /digest"),
    ("/digest sometimes", USER, "Usage: /digest"),
    ("/trend", USER, "Usage: /trend"),
    ("/trend troops 9d", USER, "Usage: /trend"),
    ("/trend nothing", USER, "Unknown topic: nothing"),
    ("/surges", USER, "Usage: /surges"),
    ("/surges maybe", USER, "Usage: /surges"),
    ("/story ¹", USER, "Usage: reply /story"),
    ("/story 99999999999999999999", USER, "Usage: reply /story"),
    ("/story 1 2", USER, "Usage: reply /story"),
    ("/story 12", USER, "There is no story 12"),
    ("/coverage sometimes", USER, "Usage: /coverage"),
    ("/subscribe troops -100999999999999999999999999", USER, "I can't find the channel"),
    ("/subscribe troops @nosuchchannel", USER, "I can't find the channel"),
    ("/subscribe troops @a @b", USER, "Usage: /subscribe"),
    ("/language fr @nosuchchannel", USER, "I can't find the channel"),
    ("/timezone Europe", USER, "“Europe” is not a time zone"),  # a folder of zones
    ("/timezone Europe/" + "a" * 300, USER, "“Europe/aaaa"),  # too long for a file name
    ("/timezone Europe/Paris UTC", USER, "Usage: /timezone"),
    ("/settitle troops", ADMIN, "Usage: /settitle"),
    ("/settitle troops de Titel", ADMIN, "Usage: /settitle"),
    ("/settitle nothing fr Titre", ADMIN, "Unknown topic: nothing"),
]


@pytest.mark.parametrize(("command", "who", "answer"), BAD_ARGUMENTS)
async def test_bad_arguments_get_a_one_line_answer(tmp_path, command, who, answer):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        before = (await topics.list_topics(bot.db), await feeds.list_feeds(bot.db))
        [reply] = await bot.send(command, chat_id=who)
        assert reply.text.startswith(answer), reply.text
        assert "\n" not in reply.text.strip() or reply.text.startswith("Usage: /addtopic")
        assert (await topics.list_topics(bot.db), await feeds.list_feeds(bot.db)) == before


async def test_a_refusal_says_refused_once(tmp_path):
    async with running_bot(tmp_path, allow_private_addresses=False) as bot:
        reply = await bot.ask("/addfeed http://10.0.0.1/rss en", chat_id=ADMIN)
        assert reply == "Refused: private address 10.0.0.1"


async def test_import_report_of_many_refusals_is_summarised(tmp_path):
    async with running_bot(tmp_path) as bot:
        outlines = [OpmlOutline(f"ftp://x{n}.test/" + "p" * 300, "", "") for n in range(40)]
        bot.api.inject_document(ADMIN, "private", ADMIN, "f1", write_opml(outlines),
                                caption="/import fr")
        await bot.until(lambda: bot.api.sent_to(ADMIN))
        messages = bot.api.sent_to(ADMIN)
        assert_fits(messages)
        assert messages[0].text.startswith("Import: 0 added, 0 skipped (already there), 40 refused.")
        assert "… and 30 more" in messages[-1].text


async def test_subscribe_with_600_names_answers_within_the_limit(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        names = ["troops"] + [f"no-such-topic-with-a-long-name-{n:04d}" for n in range(599)]
        messages = await bot.send("/subscribe " + " ".join(names))
        assert_fits(messages)
        text = "\n".join(message.text for message in messages)
        assert "Subscribed to: troops." in text
        assert "Unknown topic: no-such-topic-with-a-long-name-0000" in text
        assert "and 5" in text  # the rest are counted, not listed
        assert [s.topic for s in await chats.subscriptions(bot.db, USER)] == ["troops"]


async def test_mysubs_over_4096_units_is_split_and_lists_every_topic(tmp_path):
    async with running_bot(tmp_path) as bot:
        title = "Guerre 🚀 " * 20  # astral characters count twice in UTF-16
        await chats.ensure_chat(bot.db, USER, "private", "User", "en")
        for n in range(40):
            await topics.add_topic(bot.db, Topic(f"topic-{n:02d}", title, {"en": f"word{n}"}))
            await chats.subscribe(bot.db, USER, f"topic-{n:02d}")
        before = len(bot.api.sent_to(USER))
        bot.api.inject_message(USER, "private", USER, "/mysubs")
        await bot.until(lambda: any("Language: English" in m.text
                                    for m in bot.api.sent_to(USER)[before:]))
        messages = bot.api.sent_to(USER)[before:]
        assert len(messages) > 1
        assert_fits(messages)
        text = "\n".join(message.text for message in messages)
        assert all(f"topic-{n:02d}" in text for n in range(40))


async def test_topics_listing_fits_one_message_in_utf16_units(tmp_path):
    async with running_bot(tmp_path) as bot:
        for n in range(60):
            await topics.add_topic(bot.db, Topic(f"t{n:02d}", "🚀" * 60, {"en": f"word{n}"}))
        [listing] = await bot.send("/topics")
        assert_fits([listing])
        assert listing.reply_markup["inline_keyboard"]


@pytest.mark.parametrize("data", ["sub:99999999999999999999", "unsub:99999999999999999999",
                                  "sub:9223372036854775808", "sub:0", "sub:٣"])
async def test_forged_callback_data_answers_that_the_topic_is_gone(tmp_path, data):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, TROOPS)
        [listing] = await bot.send("/topics")
        bot.api.inject_callback(USER, USER, data, listing.message_id)
        await bot.until(lambda: bot.api.callback_answers)
        assert bot.api.callback_answers[0].params["text"] == "This topic no longer exists."
        assert await chats.subscriptions(bot.db, USER) == []
        assert GENERIC_FAILURE not in "".join(bot.api.texts_to(USER))


@pytest.mark.parametrize("data", ["story:99999999999999999999", "story:٣"])
async def test_forged_story_button_answers_that_there_is_no_such_story(tmp_path, data):
    async with running_bot(tmp_path) as bot:
        [listing] = await bot.send("/topics")
        bot.api.inject_callback(USER, USER, data, listing.message_id)
        await bot.until(lambda: bot.api.callback_answers)
        assert bot.api.callback_answers[0].params["text"].startswith("There is no story")
        assert GENERIC_FAILURE not in "".join(bot.api.texts_to(USER))


async def test_addtopic_reply_longer_than_a_message_is_split(tmp_path):
    async with running_bot(tmp_path) as bot:
        title = "🚀" * 1500
        query = " OR ".join(f"w{n:03d}" for n in range(100))
        command = f"/addtopic big {title}\nen: {query}\nfr: {query}\nru: {query}"
        before = len(bot.api.sent_to(ADMIN))
        bot.api.inject_message(ADMIN, "private", ADMIN, command)
        await bot.until(lambda: any(m.text.startswith("ru:") or "\nru:" in m.text
                                    for m in bot.api.sent_to(ADMIN)[before:]))
        messages = bot.api.sent_to(ADMIN)[before:]
        assert_fits(messages)
        assert messages[0].text.startswith("Topic big created")
        assert await topics.get_topic(bot.db, "big") is not None


async def test_test_command_reports_a_stored_query_the_parser_now_refuses(tmp_path):
    async with running_bot(tmp_path) as bot:
        # Stored before the rule that a prefix may not span words (lʼ separates).
        await topics.add_topic(bot.db, Topic("eu", "Europe", {"en": "europe", "fr": "lʼeurop*"}))
        reply = await bot.ask("/test eu Europe and l'Europe", chat_id=ADMIN)
        assert "en: yes, on europe" in reply
        assert "fr: the stored query is now refused (a prefix* must be a single word)" in reply


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab 🚀é\n"), max_size=3000), max_size=12))
def test_split_message_keeps_every_part_within_the_limit_and_every_line(paragraphs):
    text = "\n\n".join(paragraphs)
    parts = split_message(text, limit=1000, max_parts=1000)
    assert all(telegram_length(part) <= 1000 for part in parts)
    if all(telegram_length(line) <= 1000 for line in text.split("\n")):
        # Nothing shortened: the parts hold the same lines, in order.
        kept = [line for part in parts for line in part.split("\n") if line]
        assert kept == [line for line in text.split("\n") if line]


def test_split_message_past_its_parts_ends_in_an_ellipsis():
    parts = split_message("\n".join(["x" * 900] * 20), limit=1000, max_parts=3)
    assert len(parts) == 3 and parts[-1].endswith("…")


async def test_import_of_too_many_feeds_is_refused_with_the_limit(tmp_path):
    async with running_bot(tmp_path) as bot:
        outlines = [OpmlOutline(f"http://8.8.{n // 250}.{n % 250}/rss", "", "") for n in range(501)]
        bot.api.inject_document(ADMIN, "private", ADMIN, "f1", write_opml(outlines),
                                caption="/import fr")
        await bot.until(lambda: bot.api.sent_to(ADMIN))
        assert bot.api.texts_to(ADMIN)[-1] == (
            "This file lists 501 feeds; import at most 500 at a time.")
        assert await feeds.list_feeds(bot.db) == []
