"""Asking hubs: subscribe a feed that advertises one, renew before the lease ends,
unsubscribe a deleted feed. I/O (httpx); decisions are in feeds/websub.py."""

from __future__ import annotations

import logging
import secrets
import time

import httpx

from bot.feeds import FeedError
from bot.feeds.websub import Hub, subscribe_form
from bot.store import websub as store
from bot.store.db import Database

log = logging.getLogger(__name__)
RETRY_AFTER_FAILURE = 3600.0
GIVE_UP_UNSUBSCRIBING = 3 * 86400.0


class HubError(FeedError):
    """The hub refused or could not be reached; one line."""


def callback_url(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + "/" + token


async def ask_hub(client: httpx.AsyncClient, hub: Hub, form: dict[str, str],
                  timeout: float) -> None:
    try:
        response = await client.post(hub.hub, data=form, timeout=timeout)
    except httpx.HTTPError as exc:
        raise HubError(f"hub {hub.hub} unreachable: "
                       f"{' '.join(str(exc).split()) or type(exc).__name__}"[:300]) from None
    if not 200 <= response.status_code < 300:
        raise HubError(f"hub {hub.hub} answered {response.status_code}")


async def subscribe(db: Database, client: httpx.AsyncClient, feed_id: int, hub: Hub,
                    public_url: str, timeout: float, now: float | None = None) -> bool:
    """Subscribe (or renew) `feed_id` at `hub`, unless it already is with that hub and
    not due; True when the hub was asked. The hub verifies asynchronously."""
    now = time.time() if now is None else now
    existing = await store.subscription_of(db, feed_id)
    same_hub = existing is not None and Hub(existing.hub, existing.topic) == hub
    if same_hub and existing.state != "unsubscribing":
        due = existing.renew_at is not None and existing.renew_at <= now
        if not due:
            return False
    secret = existing.secret if existing is not None else secrets.token_hex(20)
    token = existing.token if existing is not None else secrets.token_urlsafe(18)
    await store.record_request(db, feed_id, hub.hub, hub.topic, secret, token, now)  # first
    form = subscribe_form(hub, callback_url(public_url, token), secret)
    try:
        await ask_hub(client, hub, form, timeout)
    except HubError as exc:
        log.warning("websub: feed %d: %s; polling goes on", feed_id, exc)
        await store.record_failure(db, feed_id, str(exc), now + RETRY_AFTER_FAILURE)
    return True


async def maintain(db: Database, client: httpx.AsyncClient, public_url: str,
                   timeout: float, now: float | None = None) -> int:
    """Renew subscriptions whose lease is ending, retry failed ones, and tell hubs
    of deleted feeds to stop; the number of hubs asked."""
    now = time.time() if now is None else now
    asked = 0
    for sub in await store.due_subscriptions(db, now):
        if sub.state == "unsubscribing":
            if now - sub.requested_at > GIVE_UP_UNSUBSCRIBING:
                await store.forget(db, sub.feed_id)  # the lease ends on its own
                continue
            hub = Hub(sub.hub, sub.topic)
            form = subscribe_form(hub, callback_url(public_url, sub.token), sub.secret,
                                  mode="unsubscribe")
            try:
                await ask_hub(client, hub, form, timeout)
            except HubError as exc:
                log.warning("websub: unsubscribing feed %d: %s", sub.feed_id, exc)
            await store.record_failure(db, sub.feed_id, "unsubscribing",
                                       now + RETRY_AFTER_FAILURE)
        else:
            await subscribe(db, client, sub.feed_id, Hub(sub.hub, sub.topic), public_url,
                            timeout, now)
        asked += 1
    return asked
