"""The WebSub callback endpoint (aiohttp): answers hubs' challenges and takes pushes.

Each subscription's callback is `websub.public_url` + a random token of its own.
A push is taken only with a valid X-Hub-Signature for that subscription's secret;
its body is handed to `ingest`, which treats it as the body of a poll of that feed
(same parse, same dedup). Off unless `websub.public_url` is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.feeds.websub import read_challenge, renew_at, signature_valid
from bot.store import websub as store
from bot.store.db import Database

log = logging.getLogger(__name__)

Ingest = Callable[[int, bytes, str | None], Awaitable[None]]
INGEST_DEADLINE = 60.0


def receiver_app(db: Database, ingest: Ingest, max_bytes: int,
                 clock: Callable[[], float] = time.time) -> web.Application:
    app = web.Application(client_max_size=max_bytes)

    async def challenge(request: web.Request) -> web.Response:
        token = _token(request)
        subscription = await store.subscription_by_token(db, token)
        asked = read_challenge(request.query)
        if subscription is None or asked is None or asked.topic != subscription.topic:
            return web.Response(status=404, text="unknown subscription")
        if asked.mode == "subscribe" and subscription.state != "unsubscribing":
            now = clock()
            await store.record_verified(db, token, asked.lease_seconds, now,
                                        renew_at(now, asked.lease_seconds))
            log.info("websub: feed %d subscribed at %s", subscription.feed_id, subscription.hub)
        elif asked.mode == "unsubscribe" and subscription.state == "unsubscribing":
            await store.forget(db, subscription.feed_id)
        else:
            return web.Response(status=404, text="not requested")
        return web.Response(text=asked.challenge, content_type="text/plain")

    async def push(request: web.Request) -> web.Response:
        token = _token(request)
        subscription = await store.subscription_by_token(db, token)
        if subscription is None or subscription.state == "unsubscribing":
            return web.Response(status=410, text="no such subscription")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="too large")
        if not signature_valid(subscription.secret, body,
                               request.headers.get("X-Hub-Signature")):
            log.warning("websub: push for feed %d refused: bad or missing signature",
                        subscription.feed_id)
            return web.Response(status=403, text="bad signature")
        await store.record_push(db, token, clock())
        try:
            async with asyncio.timeout(INGEST_DEADLINE):
                await ingest(subscription.feed_id, body, request.headers.get("Content-Type"))
        except Exception as exc:  # the backstop poll fetches it later
            log.warning("websub: push for feed %d not applied: %s", subscription.feed_id,
                        " ".join(str(exc).split())[:200] or type(exc).__name__)
            return web.Response(status=500, text="not applied")
        return web.Response(status=202, text="accepted")

    # Behind a reverse proxy the path keeps public_url's prefix: the token is its last part.
    app.router.add_get("/{path:.*}", challenge)
    app.router.add_post("/{path:.*}", push)
    return app


def _token(request: web.Request) -> str:
    return request.match_info["path"].rstrip("/").rsplit("/", 1)[-1]


async def start_receiver(app: web.Application, listen: str) -> web.AppRunner:
    """Listen on HOST:PORT; the caller stops it with `await runner.cleanup()`."""
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]"), int(port)).start()
    return runner
