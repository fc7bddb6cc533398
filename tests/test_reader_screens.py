"""/recent and /feeds through the real bot and the fake Bot API: titles in the chat's
language as links, times in the chat's zone, feed health an editor can act on."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import TranslationConfig
from bot.model import Topic
from bot.store import feeds, topics
from bot.translation import Translator
from tests.fakes.alert_world import add_entry, add_feed
from tests.fakes.bot_api import parse_telegram_html
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.telegram_app import ADMIN, USER, running_bot

NYT = "https://www.nytimes.com/2026/11/29/world/europe/oreshnik.html?partner=rss&emc=rss"
NOON = datetime(2026, 11, 29, 12, 5, tzinfo=UTC).timestamp()
DAY = 86400.0


async def test_recent_shows_translated_titles_as_links_at_the_chats_time(tmp_path):
    with FakeLibreTranslate() as libre:
        async with running_bot(tmp_path) as bot:
            translator = await Translator.create(
                TranslationConfig(provider="libre", base_url=libre.url, api_key="k"), bot.db)
            bot.context.translator = translator
            try:
                await topics.add_topic(bot.db, Topic("oreshnik", "Oreshnik",
                                                     {"en": "oreshnik"}))
                feed = await add_feed(bot.db, "https://nyt.example/rss", "en", "NYT World")
                entry = await add_entry(bot.db, feed, NYT, "Oreshnik <missile> & Europe",
                                        language="en")
                await bot.db.execute("UPDATE entries SET published_at = ? WHERE id = ?",
                                     (NOON, entry))
                await bot.db.execute(
                    "INSERT INTO matches (entry_id, topic_id, terms, matched_at) "
                    "SELECT ?, id, '[\"oreshnik\"]', ? FROM topics", (entry, NOON))
                await bot.ask("/language fr")
                await bot.ask("/timezone Europe/Paris")
                [answer] = await bot.send("/recent oreshnik")
            finally:
                await translator.close()
    assert answer.parse_mode == "HTML"
    shown = parse_telegram_html(answer.text)  # what the reader sees
    assert "29 nov. 2026, 13:05 CET · NYT World [en]" in shown
    assert "[fr] Oreshnik <missile> & Europe" in shown  # the fake translator's French
    assert "partner=rss" not in shown and "http" not in shown  # a labelled link, no address
    assert (f'<a href="{NYT.replace("&", "&amp;")}">[fr] Oreshnik &lt;missile&gt; &amp; '
            f'Europe</a>') in answer.text


async def test_feeds_says_since_when_a_feed_fails_or_has_nothing_new_in_the_chats_zone(
        tmp_path):
    async with running_bot(tmp_path) as bot:
        bot.context.clock = lambda: NOON
        failing = await feeds.add_feed(bot.db, "https://tass.example/rss", "ru", "TASS")
        quiet = await feeds.add_feed(bot.db, "https://rfi.example/rss", "fr", "RFI")
        await feeds.record_failure(bot.db, failing.id, NOON - 2 * DAY, "HTTP 503", NOON + 60)
        await feeds.record_failure(bot.db, failing.id, NOON - 300, "timed out", NOON + 60)
        await feeds.record_success(bot.db, quiet.id, NOON - 600, NOON + 300, etag=None,
                                   last_modified=None)
        await bot.db.execute("UPDATE feeds SET last_new_at = ? WHERE id = ?",
                             (NOON - 9 * DAY, quiet.id))
        await bot.ask("/language ru", chat_id=ADMIN)
        await bot.ask("/timezone Europe/Moscow", chat_id=ADMIN)
        listing = await bot.ask("/feeds", chat_id=ADMIN)
        assert "не работает с 27 нояб. 2026\u202fг., 15:05 MSK (2 сбоя подряд)" in listing
        assert "последняя ошибка (29 нояб. 2026\u202fг., 15:00 MSK): timed out" in listing
        assert "последний успех: 29 нояб. 2026\u202fг., 14:55 MSK" in listing
        assert "отвечает, но ничего нового с 20 нояб. 2026\u202fг., 15:05 MSK" in listing
        assert "UTC" not in listing
        assert "/feeds" not in await bot.ask("/feeds", chat_id=USER)  # admins only
