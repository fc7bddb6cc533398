"""The whole service, an item whose guid changes at every poll: one alert, no story line
added, with a link or without (a local feed server, the fake Bot API, a real SQLite file)."""

from __future__ import annotations

import asyncio
from email.utils import formatdate
from html import escape

import pytest

from bot.app import run_service
from bot.config import load_config
from bot.store.chats import ensure_chat, subscribe
from bot.store.db import Database
from bot.store.topics import sync_config_topics
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feeds import FeedServer
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.story_world import FEEDS, STRIKE_EN
from tests.test_stories_service import EMPTY, READER, until, write_config

POLLS = 6


def rotating(name: str, guid: int, link: str | None) -> bytes:
    _, title, summary, _ = STRIKE_EN
    link_xml = f"<link>{link}</link>" if link else ""
    item = (f"<item><title>{escape(title)}</title>{link_xml}"
            f"<guid isPermaLink='false'>rotor-{guid}</guid>"
            f"<description>{escape(summary)}</description><pubDate>{formatdate()}</pubDate>"
            "</item>")
    return EMPTY.format(name=name, items=item).encode()


@pytest.mark.parametrize("linked", [True, False], ids=["same link", "no link"])
async def test_a_guid_rotating_at_every_poll_adds_no_alert_and_no_story_line(tmp_path, linked):
    with FakeBotAPI() as api, FeedServer() as server, FakeLibreTranslate() as libre:
        paths = {name: f"/{name.split()[0].lower()}.xml" for name in FEEDS}
        empty = EMPTY.format(name="x", items="").encode()
        urls = {name: server.add(path, empty) for name, path in paths.items()}
        config = load_config(write_config(tmp_path, api, urls, libre.url), env={})
        db = await Database.open(config.storage.database)
        await sync_config_topics(db, config.topics)
        await ensure_chat(db, READER, "private", "reader", "en")
        await subscribe(db, READER, "strikes")
        await db.close()
        bbc = paths["BBC"]
        link = f"{urls['BBC']}/strike" if linked else None
        stop = asyncio.Event()
        task = asyncio.create_task(run_service(config, console=False, stop=stop))
        try:
            await until(lambda: all(server.hits(p) >= 2 for p in paths.values()))
            server.change(bbc, body=rotating("BBC", 0, link))
            await until(lambda: len(api.sent_to(READER)) >= 1)
            for guid in range(1, POLLS + 1):  # a new guid at every poll, nothing else new
                hits = server.hits(bbc)
                server.change(bbc, body=rotating("BBC", guid, link))
                await until(lambda hits=hits: server.hits(bbc) > hits)
            await until(lambda: server.hits(bbc) > hits + 2)  # the last guid polled again
            await asyncio.sleep(0.5)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
        assert len(api.sent_to(READER)) == 1
        assert api.edits_of(READER) == []
        db = await Database.open(config.storage.database)
        try:
            stored = await db.fetchall("SELECT COUNT(*) FROM entries e JOIN feeds f "
                                       "ON f.id = e.feed_id WHERE f.name = 'BBC'")
            lines = await db.fetchall("SELECT COUNT(*) FROM story_entries")
        finally:
            await db.close()
        assert stored[0][0] == 1 and lines[0][0] == 1
