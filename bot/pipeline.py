"""An entry's path through the service, stage by stage, each stage its package's module:

    fetch → parse → remember      feeds/fetch.py, feeds/parse.py (in feeds/parse_pool.py),
                                  feeds/refresh.py → a FeedUpdate, which
                                  store/entries.py applies in one transaction
                                  (run per feed by the poll loop, feeds/poll.py)
    → match                       stages/match.py, pulling the entries the store
                                  holds as pending
    → cluster → queue             stages/cluster.py (the story and every chat's outbox
                                  row written in one transaction: store/stories.py)
    → translate → render → send   translation/stage.py, alerts/render_stage.py,
                                  alerts/deliver.py (per chat, at Telegram's pace)

Stages hand each other no data: each writes its result to the store and the next
takes its work from there (entries pending matching, outbox rows), so what waits
survives a crash and has one record. A stage only wakes the next (an event, a
notify) so that it looks now rather than at its next tick.

Translation and rendering come after the queue on purpose: a row is drawn when
it is sent, in its chat's language and time zone and with its story's coverage
as it is then, so what is queued is small and never stale.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.alerts.deliver import Deliverer
from bot.alerts.render_stage import RenderStage
from bot.alerts.senders import Sender
from bot.config import Config
from bot.feeds.poll import FeedPoller, OnFeedHealth
from bot.stages.cluster import ClusterStage
from bot.stages.match import MatchStage
from bot.store.db import Database
from bot.translation.service import Translator
from bot.translation.stage import TranslateStage


@dataclass(frozen=True)
class Pipeline:
    poller: FeedPoller  # fetch → parse → remember; wakes `matching`
    matching: MatchStage  # match → cluster → queue, from the store; wakes `deliverer`
    deliverer: Deliverer  # translate → render → send, from the outbox

    async def aclose(self) -> None:
        self.matching.close()
        await self.poller.aclose()


async def build_pipeline(db: Database, config: Config, translator: Translator, sender: Sender,
                         *, console: bool = False,
                         on_feed_health: OnFeedHealth | None = None) -> Pipeline:
    """The stages in the order an entry takes them; each pulls its work from the store."""
    pending = asyncio.Event()  # entries wait for matching (the poller sets it)
    translate = TranslateStage(translator.translate_entry, on_reuse=translator.count_reuse)
    render = RenderStage(translate, config.bot.default_timezone)
    deliverer = Deliverer(db, sender, render=render, console=console)
    # Pivot translations for clustering go through the same translator and cache as alerts.
    pivot = None if config.translation.provider == "none" else translator.translate_entry
    cluster = await ClusterStage.load(db, config.stories.window, pivot)
    matching = await MatchStage.load(db, cluster=cluster, pending=pending,
                                     queued=deliverer.notify)
    poller = FeedPoller(db, config.polling, config.storage, pending=pending,
                        on_feed_health=on_feed_health, health=config.health,
                        websub=bool(config.websub.public_url), admins=config.bot.admins)
    return Pipeline(poller, matching, deliverer)
