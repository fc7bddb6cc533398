"""The health report ledger: feed failures and recoveries waiting to reach every admin.

Rows are added by `add_reports`, which `store.feeds.take_health_reports` calls in
the transaction that marks the feeds reported; each admin who has a
report is added to it as soon as Telegram accepted the message, so a report is
never sent twice to one admin and never marked done before it was sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.store.db import Database


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


async def mark_told(db: Database, report_id: int, admin_id: int) -> None:
    """This admin has the report (or refused it for good): never send it to them again."""
    await db.execute(
        "UPDATE health_reports SET told = json_insert(told, '$[#]', ?) "
        "WHERE id = ? AND NOT EXISTS (SELECT 1 FROM json_each(told) WHERE value = ?)",
        (admin_id, report_id, admin_id))


async def mark_done(db: Database, report_id: int, now: float) -> None:
    await db.execute("UPDATE health_reports SET done_at = ? WHERE id = ?", (now, report_id))


async def prune_health_reports(db: Database, before: float) -> int:
    """Forget reports done before `before`; rows removed."""
    return await db.execute(
        "DELETE FROM health_reports WHERE done_at IS NOT NULL AND done_at < ?", (before,))
