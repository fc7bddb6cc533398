"""A bot whose translator is the real one talking to the fake LibreTranslate, with a few
Oreshnik words taught in every direction, and stored entries about it in three languages."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bot.config import TranslationConfig
from bot.model import Topic
from bot.store.stories import record_entry
from bot.store.topics import add_topic
from bot.translation.service import Translator
from tests.fakes import libretranslate
from tests.fakes.alert_world import add_entry, add_feed
from tests.fakes.libretranslate import FakeLibreTranslate
from tests.fakes.telegram_app import RunningBot, running_bot

WORDS = {
    ("en", "fr"): {"oreshnik": "Orechnik", "missile": "missile"},
    ("en", "ru"): {"oreshnik": "Орешник", "missile": "ракета"},
    ("fr", "en"): {"orechnik": "Oreshnik", "missile": "missile"},
    ("fr", "ru"): {"orechnik": "Орешник", "missile": "ракета"},
    ("ru", "en"): {"орешник": "Oreshnik", "ракета": "missile"},
    ("ru", "fr"): {"орешник": "Orechnik", "ракета": "missile"},
}

ORESHNIK_TOPIC = Topic("oreshnik", "The Oreshnik missile",
                       {"en": "oreshnik", "fr": "orechnik OR oreshnik", "ru": "орешник"},
                       {"fr": "Le missile Orechnik", "ru": "Ракета «Орешник»"})

# (outlet, language, title), published in this order, an hour apart (newest last)
ENTRIES = [
    ("BBC", "en", "Russia fires Oreshnik missile at Dnipro"),
    ("Le Monde", "fr", "Le missile Orechnik frappe Dnipro"),
    ("ТАСС", "ru", "Ракета «Орешник» поразила цель в Днепре"),
    ("Le Monde", "fr", "Les marchés européens en hausse"),
]
TITLES = {  # whole-title translations the fake knows
    ("fr", "en", "Le missile Orechnik frappe Dnipro"): "The Oreshnik missile hits Dnipro",
    ("ru", "en", "Ракета «Орешник» поразила цель в Днепре"):
        "The Oreshnik missile hit a target in Dnipro",
    ("en", "fr", "Russia fires Oreshnik missile at Dnipro"):
        "La Russie tire un missile Orechnik sur Dnipro",
    ("ru", "fr", "Ракета «Орешник» поразила цель в Днепре"):
        "Le missile Orechnik a frappé une cible à Dnipro",
    ("en", "ru", "Russia fires Oreshnik missile at Dnipro"):
        "Россия выпустила ракету «Орешник» по Днепру",
    ("fr", "ru", "Le missile Orechnik frappe Dnipro"): "Ракета «Орешник» поражает Днепр",
}


def teach_words(monkeypatch) -> None:
    for pair, words in WORDS.items():
        table = dict(libretranslate.DICTIONARY.get(pair, {}))
        table.update(words)
        for (source, target, title), translation in TITLES.items():
            if (source, target) == pair:
                table[title.lower()] = translation
        monkeypatch.setitem(libretranslate.DICTIONARY, pair, table)


@contextlib.asynccontextmanager
async def newsroom_bot(tmp_path: Path, monkeypatch, **options) -> AsyncIterator[RunningBot]:
    """running_bot with the real Translator on the fake LibreTranslate."""
    teach_words(monkeypatch)
    with FakeLibreTranslate() as libre:
        async with running_bot(tmp_path, **options) as bot:
            translator = await Translator.create(TranslationConfig(
                provider="libre", base_url=libre.url, api_key="k", timeout=3.0), bot.db)
            bot.context.translator = translator
            try:
                yield bot
            finally:
                await translator.close()


async def store_oreshnik_entries(db, now: float | None = None) -> dict[str, int]:
    """ENTRIES stored; the first three in one story (the last in none). Title -> entry id."""
    now = time.time() if now is None else now
    await add_topic(db, ORESHNIK_TOPIC)
    feeds: dict[str, int] = {}
    ids: dict[str, int] = {}
    story = None
    for number, (outlet, language, title) in enumerate(ENTRIES):
        if outlet not in feeds:
            feeds[outlet] = await add_feed(db, f"https://{number}.example/rss", language, outlet)
        link = f"https://{number}.example/a?id={number}&x=1"
        entry_id = await add_entry(db, feeds[outlet], link, title, "", language)
        async with db.transaction() as conn:  # published an hour apart, newest last
            await conn.execute("UPDATE entries SET published_at = ? WHERE id = ?",
                               (now - (len(ENTRIES) - number) * 3600, entry_id))
        ids[title] = entry_id
        if "rechnik" in title or "reshnik" in title or "Орешник" in title:
            recorded = await record_entry(db, entry_id, link, [("oreshnik", ["oreshnik"])], now,
                                          story_id=story)
            story = recorded.story_id
    return ids
