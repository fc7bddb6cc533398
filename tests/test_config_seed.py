"""The config file is a seed and the last change wins: what admins change in chat on a
config item (its query, its deletion) survives restarts until its file entry changes."""

from __future__ import annotations

from bot.config import FeedConfig, TopicConfig
from bot.store.feeds import get_feed_by_url, sync_config_feeds
from bot.store.topics import list_topics, sync_config_topics
from tests.fakes.telegram_app import ADMIN, running_bot

FEED = FeedConfig(url="https://www.lemonde.fr/international/rss_full.xml", language="fr",
                  name="Le Monde")
TROOPS = TopicConfig("troops", "Western troops in Ukraine",
                     {"en": "troops AND ukraine", "fr": "troupes AND ukraine"})
MISSILE = TopicConfig("oreshnik", "Oreshnik", {"en": "oreshnik"})


async def start(db, feeds=(FEED,), topics=(TROOPS, MISSILE)) -> None:
    """What every start does with the config file."""
    await sync_config_feeds(db, feeds)
    await sync_config_topics(db, topics)


async def queries(db) -> dict[str, dict[str, str]]:
    return {t.name: dict(t.queries) for t in await list_topics(db)}


async def test_chat_edits_of_config_items_survive_restarts_until_the_file_changes(tmp_path):
    async with running_bot(tmp_path) as bot:
        await start(bot.db)
        await bot.ask("/subscribe troops oreshnik")
        await bot.ask("/setquery troops en soldiers AND ukraine", chat_id=ADMIN)
        assert "deleted" in await bot.ask("/deltopic oreshnik", chat_id=ADMIN)
        await bot.ask(f"/delfeed {FEED.url}", chat_id=ADMIN)

        await start(bot.db)  # a restart with the same file
        await start(bot.db)  # and another
        assert await queries(bot.db) == {
            "troops": {"en": "soldiers AND ukraine", "fr": "troupes AND ukraine"}}
        assert await get_feed_by_url(bot.db, FEED.url) is None
        assert "troops" in await bot.ask("/mysubs")

        # The file's entries change: now the file is the last change, and wins.
        renamed = FeedConfig(FEED.url, "fr", "Le Monde · International")
        fr_only = TopicConfig("troops", TROOPS.title, {"fr": "(troupes OR soldats) AND ukraine"})
        await start(bot.db, feeds=(renamed,), topics=(fr_only, MISSILE))
        assert (await get_feed_by_url(bot.db, FEED.url)).name == "Le Monde · International"
        assert (await queries(bot.db))["troops"] == {"fr": "(troupes OR soldats) AND ukraine"}
        assert "oreshnik" not in await queries(bot.db)  # its entry did not change

        await start(bot.db, topics=(fr_only, TopicConfig("oreshnik", "Oreshnik", {
            "en": "oreshnik", "fr": "orechnik"})))
        assert (await queries(bot.db))["oreshnik"] == {"en": "oreshnik", "fr": "orechnik"}
