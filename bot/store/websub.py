"""WebSub subscriptions in the database: one per feed, from request to verified lease.

A subscription outlives its feed until the hub confirms the unsubscription (or we
give up), so a deleted feed stops being pushed; pushes for a token we do not know
are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.db import Database

_COLUMNS = ("feed_id, hub, topic, secret, token, state, requested_at, verified_at, "
            "lease_seconds, renew_at, last_push_at, last_error")


@dataclass(frozen=True)
class Subscription:
    feed_id: int
    hub: str  # the hub's address
    topic: str  # the feed's address as the hub knows it
    secret: str
    token: str
    state: str  # discovered | requested | active | unsubscribing
    requested_at: float
    verified_at: float | None
    lease_seconds: float | None
    renew_at: float | None
    last_push_at: float | None
    last_error: str | None


def _subscription(row) -> Subscription:
    return Subscription(feed_id=row["feed_id"], hub=row["hub"], topic=row["topic"],
                        secret=row["secret"], token=row["token"], state=row["state"],
                        requested_at=row["requested_at"], verified_at=row["verified_at"],
                        lease_seconds=row["lease_seconds"], renew_at=row["renew_at"],
                        last_push_at=row["last_push_at"], last_error=row["last_error"])


async def subscription_of(db: Database, feed_id: int) -> Subscription | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM websub_subscriptions WHERE feed_id = ?",
                            (feed_id,))
    return _subscription(row) if row else None


async def subscription_by_token(db: Database, token: str) -> Subscription | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM websub_subscriptions WHERE token = ?",
                            (token,))
    return _subscription(row) if row else None


async def record_request(db: Database, feed_id: int, hub: str, topic: str, secret: str,
                         token: str, now: float) -> None:
    """A subscription asked of the hub (new, renewed, or moved to another hub): it
    stays usable for pushes until the hub's answer, with its secret kept."""
    await db.execute(
        "INSERT INTO websub_subscriptions (feed_id, hub, topic, secret, token, state, "
        "requested_at, renew_at) VALUES (?, ?, ?, ?, ?, 'requested', ?, NULL) "
        "ON CONFLICT (feed_id) DO UPDATE SET hub = excluded.hub, topic = excluded.topic, "
        "requested_at = excluded.requested_at, last_error = NULL, "
        "state = CASE WHEN websub_subscriptions.state = 'active' THEN 'active' "
        "ELSE 'requested' END",
        (feed_id, hub, topic, secret, token, now))


async def note_hub(conn, feed_id: int, hub: str, topic: str, secret: str, token: str,
                   now: float) -> None:
    """Inside the poll's transaction `conn`: the feed advertises `hub`. A feed seen with a
    hub for the first time (or with another hub) is due for subscribing now."""
    await conn.execute(
        "INSERT INTO websub_subscriptions (feed_id, hub, topic, secret, token, state, "
        "requested_at, renew_at) VALUES (?, ?, ?, ?, ?, 'discovered', ?, ?) "
        "ON CONFLICT (feed_id) DO UPDATE SET hub = excluded.hub, topic = excluded.topic, "
        "state = 'discovered', renew_at = excluded.renew_at "
        "WHERE websub_subscriptions.hub != excluded.hub "
        "OR websub_subscriptions.topic != excluded.topic",
        (feed_id, hub, topic, secret, token, now, now))


async def record_verified(db: Database, token: str, lease_seconds: float | None,
                          now: float, renew_at: float) -> None:
    await db.execute(
        "UPDATE websub_subscriptions SET state = 'active', verified_at = ?, "
        "lease_seconds = ?, renew_at = ?, last_error = NULL "
        "WHERE token = ? AND state != 'unsubscribing'",
        (now, lease_seconds, renew_at, token))


async def record_failure(db: Database, feed_id: int, error: str, retry_at: float) -> None:
    await db.execute(
        "UPDATE websub_subscriptions SET last_error = ?, renew_at = ? WHERE feed_id = ?",
        (error[:300], retry_at, feed_id))


async def record_push(db: Database, token: str, now: float) -> None:
    await db.execute("UPDATE websub_subscriptions SET last_push_at = ? WHERE token = ?",
                     (now, token))


async def mark_unsubscribing(conn, feed_id: int, now: float) -> None:
    """Inside the transaction `conn` that deletes the feed: the hub is told next."""
    await conn.execute(
        "UPDATE websub_subscriptions SET state = 'unsubscribing', renew_at = ? "
        "WHERE feed_id = ?", (now, feed_id))


async def forget(db: Database, feed_id: int) -> None:
    await db.execute("DELETE FROM websub_subscriptions WHERE feed_id = ?", (feed_id,))


async def due_subscriptions(db: Database, now: float, limit: int = 50) -> list[Subscription]:
    """Subscriptions to renew, retry or unsubscribe now."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM websub_subscriptions WHERE renew_at <= ? "
        "ORDER BY renew_at LIMIT ?", (now, limit))
    return [_subscription(row) for row in rows]


async def is_pushed(db: Database, feed_id: int) -> bool:
    """Whether the feed's hub pushes to us (a verified subscription)."""
    row = await db.fetchone("SELECT 1 FROM websub_subscriptions WHERE feed_id = ? "
                            "AND state = 'active'", (feed_id,))
    return row is not None


async def active_feed_ids(db: Database) -> set[int]:
    """Feeds whose pushes arrive: polled only as a backstop."""
    rows = await db.fetchall(
        "SELECT feed_id FROM websub_subscriptions WHERE state = 'active'")
    return {row["feed_id"] for row in rows}
