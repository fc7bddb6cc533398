"""/stats counts what a reader calls a cache hit: an alert translated once for many chats
is one provider call and a hit for every other chat, not a 0 % hit rate."""

import telegram

from bot.alerts.deliver import Deliverer, DeliveryPolicy, TelegramSender
from bot.config import TranslationConfig
from bot.store import outbox
from bot.store.db import Database
from bot.translation import Translator
from tests.fakes.alert_world import add_entry, add_feed, add_subscriber, add_topic_named
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.libretranslate import FakeLibreTranslate


async def test_one_translation_sent_to_three_chats_counts_two_reuses_as_hits(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    with FakeLibreTranslate() as server, FakeBotAPI() as api:
        translator = await Translator.create(
            TranslationConfig(provider="libre", base_url=server.url, api_key="k"), db)
        await add_topic_named(db, "troops")
        for chat in (1, 2, 3):
            await add_subscriber(db, chat, ["troops"], language="ru")
        feed = await add_feed(db, "https://lemonde.fr/rss", "fr", "Le Monde")
        entry = await add_entry(db, feed, "https://lemonde.fr/1", "Des troupes", "Un résumé.")
        await outbox.record_matches(db, entry, "https://lemonde.fr/1", [("troops", ["troupes"])],
                                    0.0)
        bot = telegram.Bot(api.token, base_url=api.base_url)
        async with bot:
            await Deliverer(db, TelegramSender(bot), translator.translate_entry,
                            DeliveryPolicy().scaled(0.05),
                            on_reuse=translator.count_reuse).drain()
        stats = await translator.stats()
        await translator.close()
        assert [len(api.sent_to(chat)) for chat in (1, 2, 3)] == [1, 1, 1]
        assert server.calls == 1
        assert (stats["hits"], stats["misses"]) == (4, 2)  # title and summary, per chat
        assert round(stats["hit_rate"], 2) == 0.67
    await db.close()
