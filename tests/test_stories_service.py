"""The whole service, a story spreading across three feeds in three languages: one alert
per chat, edited as outlets join (across a restart), one reply per new language."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from html import escape
from pathlib import Path

from bot.app import run_service
from bot.config import load_config
from bot.store.chats import ensure_chat, subscribe
from bot.store.db import Database
from bot.store.topics import sync_config_topics
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.feeds import FeedServer
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.story_world import FEEDS, STRIKE_EN, STRIKE_FR, STRIKE_RU, teach_pivots
from tests.test_service_e2e import write_config as service_config

READER = 3003

EMPTY = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>{name}</title><link>https://example.org/</link>{items}</channel></rss>"""


def feed(name: str, *items: tuple) -> bytes:
    body = "".join(
        f"<item><title>{escape(title)}</title><link>{link}</link>"
        f"<description>{escape(summary)}</description><pubDate>{formatdate()}</pubDate></item>"
        for (_, title, summary, _), link in items)
    return EMPTY.format(name=name, items=body).encode()


def write_config(folder: Path, api: FakeBotAPI, urls: dict[str, str], libre: str) -> Path:
    """The end-to-end service config (Le Monde first) with the BBC, TASS and the topic."""
    others = "".join(f'[[feeds]]\nurl = "{urls[n]}"\nlanguage = "{c.language}"\nname = "{n}"\n'
                     for n, c in FEEDS.items() if n != "Le Monde")
    return service_config(folder, api, urls["Le Monde"], libre, topics=others + """
[[topics]]
name = "strikes"
title = "Long-range strikes"
en = 'missiles OR "storm shadow"'
fr = 'missiles OR scalp'
ru = 'ракет*'
""")


async def until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def test_a_story_grows_one_alert_across_feeds_languages_and_a_restart(tmp_path,
                                                                            monkeypatch):
    teach_pivots(monkeypatch)
    with FakeBotAPI() as api, FeedServer() as server, FakeLibreTranslate() as libre:
        paths = {name: f"/{name.split()[0].lower()}.xml" for name in FEEDS}
        urls = {name: server.add(path, feed(name)) for name, path in paths.items()}
        config = load_config(write_config(tmp_path, api, urls, libre.url), env={})
        db = await Database.open(config.storage.database)
        await sync_config_topics(db, config.topics)
        await ensure_chat(db, READER, "private", "reader", "en")
        await subscribe(db, READER, "strikes")
        await db.close()

        async def service_until(condition) -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(run_service(config, console=False, stop=stop))
            try:
                await until(condition)
                await asyncio.sleep(1.0)  # a few more polls: nothing more may arrive
            finally:
                stop.set()
                await asyncio.wait_for(task, 20)

        def publish(item: tuple, n: int) -> None:
            outlet = item[0]
            server.change(paths[outlet], body=feed(outlet, (item, f"{urls[outlet]}/{n}")))

        # First start: every feed's baseline, then Le Monde's entry.
        await service_until(lambda: all(server.hits(p) >= 2 for p in paths.values()))
        publish(STRIKE_FR, 1)
        await service_until(lambda: len(api.sent_to(READER)) >= 1)
        [alert] = api.sent_to(READER)

        # After a restart, the BBC's and TASS's entries edit that same alert.
        publish(STRIKE_EN, 2)
        publish(STRIKE_RU, 3)
        await service_until(lambda: "TASS (ru)" in (api.text_of(READER, alert.message_id) or "")
                            and len(api.sent_to(READER)) >= 3)

        sent = api.sent_to(READER)
        assert [m.reply_to for m in sent] == [None, alert.message_id, alert.message_id]
        assert sorted(m.text for m in sent[1:]) == ["Now in English: BBC",
                                                    "Now in Russian: TASS"]
        assert 1 <= len(api.edits_of(READER)) <= 2  # coalesced when both wait together
        assert {e.params["message_id"] for e in api.edits_of(READER)} == {alert.message_id}
        shown = api.text_of(READER, alert.message_id)
        assert "3 outlets · 3 languages" in shown and "BBC (en)" in shown
