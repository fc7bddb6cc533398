"""Odd but possible values through the real bot: a topic title with dollar signs in a
/trend chart, control characters in what /export writes and /import reads back, and
time zone names that are not places."""

from __future__ import annotations

import tomllib

import pytest

from bot.feeds.opml import read_opml
from bot.model import Topic
from bot.store import chats, feeds, topics
from tests.fakes.telegram_app import ADMIN, USER, running_bot

GENERIC_FAILURE = "Sorry, something went wrong"


async def test_a_title_that_looks_like_tex_is_drawn_as_text(tmp_path):
    async with running_bot(tmp_path) as bot:
        await topics.add_topic(bot.db, Topic("oil", r"Oil at $\frac{$", {"en": "oil"}))
        bot.api.inject_message(USER, "private", None, "/trend oil")
        # a chart taking over a second is announced first ("Working on it…"): wait for
        # the chart itself, or for the failure this test guards against
        await bot.until(lambda: bot.api.photos or any(
            GENERIC_FAILURE in text for text in bot.api.texts_to(USER)))
        assert [photo.chat_id for photo in bot.api.photos] == [USER]
        assert bot.api.photos[0].data.startswith(b"\x89PNG")
        assert not any(GENERIC_FAILURE in text for text in bot.api.texts_to(USER))


async def test_export_with_control_characters_is_valid_and_imports_back(tmp_path):
    url = "http://lemonde.test/rss?a=1&b=2"
    async with running_bot(tmp_path) as bot:
        await feeds.add_feed(bot.db, url, "fr", "Le Monde\x00 \x07·\x1b À la une\x7f")
        await topics.add_topic(bot.db, Topic("oil", "Oil\x08 at $5\x7f", {"en": "oil"}))
        bot.api.inject_message(ADMIN, "private", ADMIN, "/export")
        opml, toml = await bot.documents(ADMIN, 2)
        [feed] = read_opml(opml.data)
        assert (feed.url, feed.title) == (url, "Le Monde · À la une\x7f")
        assert tomllib.loads(toml.data.decode())["topics"][0]["title"] == "Oil\x08 at $5\x7f"

        await feeds.delete_feed(bot.db, url)
        bot.api.inject_document(ADMIN, "private", ADMIN, "f1", opml.data, caption="/import fr")
        await bot.until(lambda: len(bot.api.sent_to(ADMIN)) >= 1)
        assert bot.api.texts_to(ADMIN)[-1].startswith("Import: 1 added")
        assert [f.url for f in await feeds.list_feeds(bot.db)] == [url]


@pytest.mark.parametrize("zone", ["Factory", "localtime", "posixrules", "posix/Europe/Paris",
                                  "right/UTC", "zone.tab", "tzdata.zi"])
async def test_a_zone_name_that_is_not_a_place_is_refused(tmp_path, zone):
    async with running_bot(tmp_path) as bot:
        answer = await bot.ask(f"/timezone {zone}")
        assert answer.startswith(f"“{zone}” is not a time zone I know")
        chat = await chats.get_chat(bot.db, USER)
        assert chat is None or await chats.chat_timezone(bot.db, USER, "UTC") == "UTC"


async def test_a_zone_typed_in_lower_case_is_stored_as_iana_spells_it(tmp_path):
    async with running_bot(tmp_path) as bot:
        assert "Europe/Paris" in await bot.ask("/timezone europe/paris")
        assert await chats.chat_timezone(bot.db, USER, "UTC") == "Europe/Paris"
