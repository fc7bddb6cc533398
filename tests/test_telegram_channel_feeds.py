"""Telegram channels as feeds, added in chat: the public preview is read once to vet
the channel (and name it); a channel without a preview is refused with that reason."""

from pathlib import Path

from bot.config import PollingConfig
from bot.store import feeds
from tests.fakes.feeds import FeedServer
from tests.fakes.telegram_app import ADMIN, running_bot

PAGES = Path(__file__).parent / "fixtures" / "telegram"
HTML = "text/html; charset=utf-8"


def _polling(server: FeedServer) -> PollingConfig:
    return PollingConfig(allow_private_addresses=True, telegram_preview_url=server.url("/s/"))


async def test_addfeed_at_channel_reads_its_preview_and_stores_the_preview_address(tmp_path):
    with FeedServer() as server:
        server.add("/s/severnews", (PAGES / "channel_preview.html").read_bytes(),
                   content_type=HTML)
        async with running_bot(tmp_path, polling=_polling(server)) as bot:
            reply = await bot.ask("/addfeed @severnews ru", chat_id=ADMIN)
            assert "Feed added: Новости Севера [ru]" in reply
            [feed] = await feeds.list_feeds(bot.db)
            assert (feed.url, feed.language) == ("https://t.me/s/severnews", "ru")
            assert server.hits("/s/severnews") == 1
            again = await bot.ask("/addfeed https://t.me/severnews ru", chat_id=ADMIN)
            assert "already" in again and len(await feeds.list_feeds(bot.db)) == 1


async def test_a_channel_without_a_public_preview_is_refused_with_that_reason(tmp_path):
    with FeedServer() as server:
        server.add("/s/closednews", (PAGES / "preview_disabled.html").read_bytes(),
                   content_type=HTML)
        async with running_bot(tmp_path, polling=_polling(server)) as bot:
            reply = await bot.ask("/addfeed https://t.me/closednews ru", chat_id=ADMIN)
            assert reply.startswith("Refused:")
            assert "@closednews has no public web preview" in reply
            missing = await bot.ask("/addfeed @nosuchchannel ru", chat_id=ADMIN)
            assert missing.startswith("Refused:") and "HTTP 404" in missing
            assert await feeds.list_feeds(bot.db) == [] and bot.changes == []


async def test_feeds_shows_each_feeds_current_poll_interval(tmp_path):
    async with running_bot(tmp_path) as bot:
        wire = await feeds.add_feed(bot.db, "https://wire.example/rss", "en", "Wire")
        await feeds.add_feed(bot.db, "https://new.example/rss", "en", "New")
        await bot.db.execute("UPDATE feeds SET poll_interval_s = 120, last_success_at = 1 "
                             "WHERE id = ?", (wire.id,))
        listing = await bot.ask("/feeds", chat_id=ADMIN)
        wire_block, new_block = listing.split("\n\n")
        assert "poll interval: 2 minutes" in wire_block
        assert "poll interval" not in new_block  # never polled yet
        await bot.ask("/language ru", chat_id=ADMIN)
        assert "опрашивается раз в 2 минуты" in await bot.ask("/feeds", chat_id=ADMIN)
