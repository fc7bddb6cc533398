"""Three outlets in three languages reporting one strike, and the real pipeline from a
stored entry to the fake Bot API: match, pivot translation, story, outbox, delivery."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import telegram.ext
from telegram.request import HTTPXRequest

from bot.alerts.deliver import Deliverer, DeliveryPolicy, TelegramSender
from bot.config import FeedConfig, TranslationConfig
from bot.feeds.refresh import remember_entries
from bot.model import Entry, Topic
from bot.stages.cluster import ClusterStage
from bot.stages.match import MatchStage
from bot.store.db import Database
from bot.store.feeds import get_feed_by_url, sync_config_feeds
from bot.store.topics import add_topic
from bot.telegram.budget import Budget, TelegramLimits
from bot.telegram.rate_limiter import BudgetRateLimiter
from bot.translation.service import Translator
from tests.fakes import libretranslate

FAST = DeliveryPolicy().scaled(0.02)  # retries fifty times faster
FAST_LIMITS = TelegramLimits().scaled(0.02)  # Telegram's limits, fifty times faster

FEEDS = {
    "Le Monde": FeedConfig(url="https://lemonde.example/rss", language="fr", name="Le Monde"),
    "BBC": FeedConfig(url="https://bbc.example/rss", language="en", name="BBC"),
    "TASS": FeedConfig(url="https://tass.example/rss", language="ru", name="TASS"),
}
TOPICS = [
    Topic("strikes", "Long-range strikes", {"en": 'missiles OR "storm shadow"',
                                            "fr": "missiles OR scalp", "ru": "ракет*"}),
    Topic("bryansk", "Bryansk", {"en": "bryansk", "fr": "briansk", "ru": "брянск*"}),
]

# (outlet, title, summary, English pivot of title and summary or None)
STRIKE_FR = ("Le Monde", "Frappe de missiles SCALP-EG sur un arsenal de Briansk",
             "L'Ukraine a tiré 12 missiles SCALP-EG franco-britanniques sur un arsenal de "
             "Briansk, selon Kiev.",
             ("SCALP-EG missile strike on an arsenal in Bryansk",
              "Ukraine fired 12 Anglo-French SCALP-EG missiles at an arsenal in Bryansk, "
              "according to Kyiv."))
STRIKE_EN = ("BBC", "Ukraine fires 12 Storm Shadow missiles at Bryansk arsenal",
             "Kyiv says the Anglo-French missiles hit an arsenal in Bryansk overnight.", None)
STRIKE_RU = ("TASS", "ВСУ выпустили 12 ракет Storm Shadow по арсеналу в Брянске",
             "Украина атаковала арсенал в Брянской области англо-французскими ракетами.",
             ("Ukrainian forces fired 12 Storm Shadow missiles at an arsenal in Bryansk",
              "Ukraine attacked an arsenal in the Bryansk region with Anglo-French missiles."))
POWER_PLANT_FR = ("Le Monde", "Des missiles frappent une centrale électrique à Kharkiv",
                  "Une frappe russe a privé 200 000 foyers d'électricité.",
                  ("Missiles hit a power plant in Kharkiv",
                   "A Russian strike left 200,000 homes without power."))


def teach_pivots(monkeypatch) -> None:
    """The fake translator answers these entries' English pivots word for word."""
    for outlet, title, summary, pivot in (STRIKE_FR, STRIKE_RU, POWER_PLANT_FR):
        if pivot is None:
            continue
        source = FEEDS[outlet].language
        table = dict(libretranslate.DICTIONARY.get((source, "en"), {}))
        table[title.lower()] = pivot[0]
        table[summary.lower()] = pivot[1]
        monkeypatch.setitem(libretranslate.DICTIONARY, (source, "en"), table)


class StoryWorld:
    """One service's worth of parts on a database file; `restart` builds them anew."""

    def __init__(self, folder: Path, api, libre_url: str, policy: DeliveryPolicy = FAST,
                 limits: TelegramLimits = FAST_LIMITS, default_timezone: str = "UTC") -> None:
        self.path = folder / "stories.sqlite3"
        self.api = api
        self.libre_url = libre_url
        self.policy = policy
        self.limits = limits
        self.default_timezone = default_timezone  # bot.default_timezone
        self.db: Database | None = None
        self.bot: telegram.Bot | None = None
        self.translator: Translator | None = None
        self.stage: MatchStage | None = None
        self.deliverer: Deliverer | None = None
        self._links = 0

    async def start(self) -> StoryWorld:
        self.db = await Database.open(self.path)
        await sync_config_feeds(self.db, list(FEEDS.values()))
        for topic in TOPICS:
            if await self.db.fetchone("SELECT 1 FROM topics WHERE name = ?", (topic.name,)) \
                    is None:
                await add_topic(self.db, topic)
        self.translator = await Translator.create(TranslationConfig(
            provider="libre", base_url=self.libre_url, api_key="k", timeout=3.0), self.db)
        # One Telegram budget for sends and edits, as the service's bots have.
        self.bot = telegram.ext.ExtBot(self.api.token, base_url=self.api.base_url,
                                       request=HTTPXRequest(connection_pool_size=64),
                                       rate_limiter=BudgetRateLimiter(Budget(self.limits)))
        await self.bot.initialize()
        self.deliverer = Deliverer(self.db, TelegramSender(self.bot),
                                   self.translator.translate_entry, self.policy,
                                   default_timezone=self.default_timezone)
        cluster = await ClusterStage.load(self.db, 48 * 3600.0, self.translator.translate_entry)
        self.stage = await MatchStage.load(self.db, cluster=cluster)
        return self

    async def stop(self) -> None:
        await self.deliverer.shutdown()
        await self.bot.shutdown()
        await self.translator.close()
        await self.db.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def publish(self, item: tuple, link: str | None = None) -> int:
        """A new entry in its outlet's feed, matched and placed; outbox rows queued."""
        outlet, title, summary, _ = item
        config = FEEDS[outlet]
        feed = await get_feed_by_url(self.db, config.url)
        self._links += 1
        link = link or f"{config.url.removesuffix('/rss')}/{self._links}-{time.time_ns()}"
        entry = Entry(key=link, link=link, title=title, summary=summary,
                      published=datetime.now(UTC), language=config.language)
        await remember_entries(self.db, feed, [entry], time.time(), baseline=False)
        return await self.stage.match_pending()

    async def deliver(self) -> None:
        await self.deliverer.drain(timeout=30.0)
