"""WebSub for the running service: the push receiver and the loop that keeps
subscriptions alive (subscribe feeds found with a hub, renew leases, unsubscribe
deleted feeds). Off unless `websub.public_url` is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from bot.config import PollingConfig, WebSubConfig
from bot.feeds.fetch import make_client
from bot.feeds.websub_receiver import Ingest, receiver_app, start_receiver
from bot.feeds.websub_subscriber import maintain
from bot.store.db import Database

log = logging.getLogger(__name__)
MAINTAIN_EVERY = 60.0  # a feed found with a hub is subscribed within a minute


class WebSubService:
    def __init__(self, db: Database, websub: WebSubConfig, polling: PollingConfig,
                 ingest: Ingest) -> None:
        self.db = db
        self.websub = websub
        self.polling = polling
        self.ingest = ingest
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen for hubs; an address that cannot be bound stops the start (one line)."""
        app = receiver_app(self.db, self.ingest, self.polling.max_bytes)
        self._runner = await start_receiver(app, self.websub.listen)
        log.info("websub: receiving pushes on %s for %s", self.websub.listen,
                 self.websub.public_url)

    async def run(self, stop: asyncio.Event) -> None:
        """Ask hubs what is due, every minute, until `stop`."""
        async with make_client(self.polling) as client:
            while not stop.is_set():
                try:
                    async with asyncio.timeout(self.polling.timeout * 10):
                        await maintain(self.db, client, self.websub.public_url,
                                       self.polling.timeout)
                except TimeoutError:
                    log.warning("websub: hubs took too long; trying again in a minute")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), MAINTAIN_EVERY)

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
