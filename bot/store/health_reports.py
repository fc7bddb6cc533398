"""The health report ledger: feed failures and recoveries waiting to reach every admin.

Rows are added by `add_reports`, which `store.feeds.take_health_reports` calls in
the transaction that marks the feeds reported; `queue_reports` turns each into
one outbox message per admin (not yet `told` by an earlier version) and marks it
done in one transaction, so a report is never lost nor queued twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.store.db import Database
from bot.store.outbox_texts import queue_text


@dataclass(frozen=True)
class LedgerRow:
    """What a report says: the feed, its new state, its last error, since when (failing
    since, or nothing new since for 'stale') and its last success."""

    feed_id: int
    feed_name: str
    feed_url: str
    state: str  # failing | recovered | stale
    error: str | None
    since: float | None
    last_success_at: float | None


@dataclass(frozen=True)
class WaitingReport:
    id: int
    feed_name: str
    feed_url: str
    state: str  # failing | recovered | stale
    error: str | None
    told: frozenset[int]
    since: float | None = None
    last_success_at: float | None = None
    created_at: float | None = None


async def add_reports(conn, reports: list[LedgerRow], now: float) -> None:
    """Queue reports inside the caller's transaction `conn`, so a feed is marked
    reported only together with its report."""
    await conn.executemany(
        "INSERT INTO health_reports (feed_id, feed_name, feed_url, state, error, since, "
        "last_success_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(r.feed_id, r.feed_name, r.feed_url, r.state, r.error, r.since, r.last_success_at,
          now) for r in reports])


async def waiting_reports(db: Database, limit: int = 100) -> list[WaitingReport]:
    """Reports not yet done, oldest first (a recovery is never told before its failure)."""
    rows = await db.fetchall(
        "SELECT id, feed_name, feed_url, state, error, told, since, last_success_at, "
        "created_at FROM health_reports WHERE done_at IS NULL ORDER BY id LIMIT ?", (limit,))
    return [WaitingReport(row["id"], row["feed_name"], row["feed_url"], row["state"],
                          row["error"], frozenset(json.loads(row["told"])), row["since"],
                          row["last_success_at"], row["created_at"]) for row in rows]


async def queue_reports(db: Database, messages: list[tuple[int, list[tuple[int, str]]]],
                        now: float) -> None:
    """Per report, (admin id, HTML) messages into the outbox, and the report done, in one
    transaction: from then on the outbox owns sending them (each at most once)."""
    async with db.transaction() as conn:
        for report_id, told in messages:
            for admin_id, text in told:
                await queue_text(conn, "health", admin_id, f"health:{report_id}", now,
                                 body=text)
            await conn.execute("UPDATE health_reports SET done_at = ? WHERE id = ?",
                               (now, report_id))


async def prune_health_reports(db: Database, before: float) -> int:
    """Forget reports done before `before`; rows removed."""
    return await db.execute(
        "DELETE FROM health_reports WHERE done_at IS NOT NULL AND done_at < ?", (before,))
