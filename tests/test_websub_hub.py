"""WebSub against a hub on 127.0.0.1: subscription, verification, pushes with good and
bad signatures, renewal before the lease ends, a hub gone, unsubscribing a deleted feed."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.feeds import websub_subscriber as subscriber
from bot.feeds.websub import Hub
from bot.feeds.websub_receiver import receiver_app, start_receiver
from bot.store import feeds as feed_store
from bot.store import websub as websub_store
from bot.store.db import Database
from tests.fakes.websub_hub import FakeHub

FEED = "https://example.org/feed.xml"
BODY = b"<rss version='2.0'><channel><item><title>Pushed</title></item></channel></rss>"


async def _until(condition, what: str, deadline: float = 10.0):
    end = time.monotonic() + deadline  # a hang guard, not a timing check
    while not await condition():
        if time.monotonic() > end:
            raise AssertionError(f"not reached: {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def world(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    feed = await feed_store.add_feed(db, FEED, "en", "Example", now=time.time())
    pushed: list[tuple[int, bytes]] = []

    async def ingest(feed_id: int, body: bytes, content_type: str | None) -> None:
        pushed.append((feed_id, body))

    runner = await start_receiver(receiver_app(db, ingest, max_bytes=1_000_000),
                                  "127.0.0.1:0")
    port = runner.addresses[0][1]
    hub = await FakeHub(lease_seconds=3600).start()
    client = httpx.AsyncClient()
    yield {"db": db, "feed": feed, "pushed": pushed, "hub": hub, "client": client,
           "public": f"http://127.0.0.1:{port}/websub/"}
    await client.aclose()
    await hub.stop()
    await runner.cleanup()
    await db.close()


async def _subscribed(world) -> str:
    db, hub, feed_id = world["db"], world["hub"], _feed_id(world)
    asked = await subscriber.subscribe(db, world["client"], feed_id, Hub(hub.url, FEED),
                                       world["public"], timeout=5)
    assert asked

    async def active():
        sub = await websub_store.subscription_of(db, feed_id)
        return sub is not None and sub.state == "active"
    await _until(active, "the hub verifies the subscription")
    return hub.requests[-1]["hub.callback"]


def _feed_id(world) -> int:
    feed = world["feed"]
    return feed if isinstance(feed, int) else feed.id


async def test_a_subscription_is_verified_and_its_lease_renewed_before_it_ends(world):
    callback = await _subscribed(world)
    hub, db = world["hub"], world["db"]
    assert hub.verified == [("subscribe", callback, True)]
    assert hub.requests[0]["hub.topic"] == FEED and hub.requests[0]["hub.secret"]
    sub = await websub_store.subscription_of(db, _feed_id(world))
    assert sub.lease_seconds == 3600 and sub.renew_at < sub.verified_at + 3600

    assert await subscriber.maintain(db, world["client"], world["public"], 5,
                                     now=sub.verified_at + 60) == 0  # not due yet
    assert await subscriber.maintain(db, world["client"], world["public"], 5,
                                     now=sub.renew_at + 1) == 1
    assert len(hub.requests) == 2 and hub.requests[1]["hub.mode"] == "subscribe"
    # the renewal keeps the same callback and secret, so pushes in between still count
    assert hub.requests[1]["hub.callback"] == callback
    assert hub.requests[1]["hub.secret"] == hub.requests[0]["hub.secret"]


async def test_a_push_with_a_good_signature_is_ingested_as_the_feeds_body(world):
    callback = await _subscribed(world)
    for method in ("sha1", "sha512"):
        response = await world["hub"].push(callback, BODY, method)
        assert response.status_code == 202
    assert world["pushed"] == [(_feed_id(world), BODY), (_feed_id(world), BODY)]


async def test_a_push_with_a_bad_or_missing_signature_is_refused(world):
    callback = await _subscribed(world)
    response = await world["hub"].push(callback, BODY, secret="not-the-secret")
    assert response.status_code == 403
    async with httpx.AsyncClient() as client:
        unsigned = await client.post(callback, content=BODY)
        unknown = await client.post(callback.rsplit("/", 1)[0] + "/nosuchtoken", content=BODY)
    assert (unsigned.status_code, unknown.status_code) == (403, 410)
    assert world["pushed"] == []


async def test_a_challenge_for_another_topic_or_unrequested_is_not_echoed(world):
    callback = await _subscribed(world)
    async with httpx.AsyncClient() as client:
        wrong_topic = await client.get(callback, params={
            "hub.mode": "subscribe", "hub.topic": "https://evil/", "hub.challenge": "x"})
        unrequested = await client.get(callback, params={
            "hub.mode": "unsubscribe", "hub.topic": FEED, "hub.challenge": "x"})
    assert (wrong_topic.status_code, unrequested.status_code) == (404, 404)


async def test_a_hub_gone_is_recorded_and_retried_later(world):
    db = world["db"]
    dead = Hub("http://127.0.0.1:9/", FEED)  # nothing listens on the discard port
    now = time.time()
    assert await subscriber.subscribe(db, world["client"], _feed_id(world), dead,
                                      world["public"], timeout=2, now=now)
    sub = await websub_store.subscription_of(db, _feed_id(world))
    assert sub.state == "requested" and "unreachable" in sub.last_error
    assert sub.renew_at == now + subscriber.RETRY_AFTER_FAILURE
    assert await websub_store.active_feed_ids(db) == set()  # so it is polled as usual


async def test_a_deleted_feed_is_unsubscribed_and_its_pushes_refused(world):
    callback = await _subscribed(world)
    db, hub = world["db"], world["hub"]
    assert await feed_store.delete_feed(db, FEED)
    response = await hub.push(callback, BODY)
    assert response.status_code == 410
    assert await subscriber.maintain(db, world["client"], world["public"], 5) == 1
    assert hub.requests[-1]["hub.mode"] == "unsubscribe"

    async def forgotten():
        return await websub_store.subscription_of(db, _feed_id(world)) is None
    await _until(forgotten, "the hub confirms the unsubscription")
    assert hub.verified[-1] == ("unsubscribe", callback, True)
    assert world["pushed"] == []
