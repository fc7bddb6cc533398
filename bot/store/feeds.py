"""The feeds aggregate in SQLite: the list of feeds, their HTTP validators and health."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import FeedConfig, HealthConfig
from bot.model import Feed, FeedHealth, FeedState
from bot.store.config_seeds import entry_changed
from bot.store.db import Database
from bot.store.health_reports import LedgerRow, add_reports
from bot.store.websub import mark_unsubscribing

ERROR_MAX = 500  # characters of a poll's error kept: whatever a server sent, a row stays small

_FEED_COLUMNS = "id, url, language, name, interval_s"
_HEALTH_COLUMNS = ("id, last_success_at, last_error, last_error_at, failing_since, "
                   "consecutive_failures, next_poll_at, entries_seen, "
                   "COALESCE(last_new_at, created_at) AS last_new_at, poll_interval_s")


class FeedExists(Exception):
    """A feed with this URL is already followed."""


@dataclass(frozen=True)
class DueFeed:
    """A feed the poller should fetch now, with what the last poll left behind."""

    feed: Feed
    etag: str | None
    last_modified: str | None
    baseline_done: bool
    consecutive_failures: int


@dataclass(frozen=True)
class HealthReport:
    """A state change admins are told about once: 'failing' (for health.report_after),
    'recovered', or 'stale' (answering, nothing new for health.stale_after)."""

    feed: Feed
    state: str
    health: FeedHealth
    since: float | None  # failing since (also for 'recovered'), or nothing new since


def _feed(row) -> Feed:
    return Feed(id=row["id"], url=row["url"], language=row["language"], name=row["name"],
                interval=row["interval_s"])


def _health(row) -> FeedHealth:
    return FeedHealth(feed_id=row["id"], last_success_at=row["last_success_at"],
                      last_error=row["last_error"], last_error_at=row["last_error_at"],
                      failing_since=row["failing_since"],
                      consecutive_failures=row["consecutive_failures"],
                      next_poll_at=row["next_poll_at"], entries_seen=row["entries_seen"],
                      last_new_at=row["last_new_at"], poll_interval=row["poll_interval_s"])


async def sync_config_feeds(db: Database, feeds: Iterable[FeedConfig],
                            now: float | None = None) -> None:
    """Load the config file's feeds: add new URLs, update language, name, interval of known ones.

    Only feeds whose file entry is new or changed since the previous start: a feed
    deleted in chat stays deleted until its entry changes (`store/config_seeds.py`).
    Feeds added in chat and not named in the file are left alone.
    """
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        changed = [f for f in feeds if await entry_changed(conn, "feed", f.url, f)]
        await conn.executemany(
            "INSERT INTO feeds (url, language, name, interval_s, origin, created_at) "
            "VALUES (?, ?, ?, ?, 'config', ?) "
            "ON CONFLICT (url) DO UPDATE SET language = excluded.language, "
            "name = excluded.name, interval_s = excluded.interval_s",
            [(f.url, f.language, f.name, f.interval, now) for f in changed],
        )


async def add_feed(db: Database, url: str, language: str, name: str = "",
                   interval: float | None = None, *, origin: str = "chat",
                   now: float | None = None) -> Feed:
    """Follow a new feed, due at once; FeedExists if the URL is already followed."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT INTO feeds (url, language, name, interval_s, origin, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING RETURNING " + _FEED_COLUMNS,
            (url, language, name, interval, origin, now),
        )
        row = await cursor.fetchone()
    if row is None:
        raise FeedExists(f"already following {url}")
    return _feed(row)


async def delete_feed(db: Database, url: str) -> bool:
    """Stop following a feed; its entries (and their matches) go with it."""
    async with db.transaction() as conn:
        row = await (await conn.execute("SELECT id FROM feeds WHERE url = ?", (url,))).fetchone()
        if row is None:
            return False
        await mark_unsubscribing(conn, row["id"], time.time())  # its hub is told to stop
        await conn.execute("DELETE FROM feeds WHERE id = ?", (row["id"],))
        return True


async def list_feeds(db: Database) -> list[Feed]:
    rows = await db.fetchall(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY id")
    return [_feed(row) for row in rows]


async def get_feed_by_url(db: Database, url: str) -> Feed | None:
    row = await db.fetchone(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE url = ?", (url,))
    return _feed(row) if row else None


async def feed_for_push(db: Database, feed_id: int) -> tuple[Feed, bool] | None:
    """(the feed, whether its baseline poll was done) for a body its hub pushed."""
    row = await db.fetchone(f"SELECT {_FEED_COLUMNS}, baseline_done FROM feeds WHERE id = ?",
                            (feed_id,))
    return (_feed(row), bool(row["baseline_done"])) if row else None


async def get_health(db: Database, feed_id: int) -> FeedHealth | None:
    row = await db.fetchone(f"SELECT {_HEALTH_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
    return _health(row) if row else None


async def list_health(db: Database) -> list[tuple[Feed, FeedHealth]]:
    """Every feed with its health, for `/feeds`."""
    rows = await db.fetchall(
        f"SELECT {_FEED_COLUMNS}, {_HEALTH_COLUMNS.replace('id, ', '', 1)} FROM feeds ORDER BY id")
    return [(_feed(row), _health(row)) for row in rows]


async def due_feeds(db: Database, now: float, *, exclude: Iterable[int] = (),
                    limit: int | None = None) -> list[DueFeed]:
    """Feeds whose next poll time has come, most overdue first."""
    rows = await db.fetchall(
        f"SELECT {_FEED_COLUMNS}, etag, last_modified, baseline_done, consecutive_failures "
        "FROM feeds WHERE next_poll_at <= ? ORDER BY next_poll_at, id LIMIT ?",
        (now, -1 if limit is None else limit),
    )
    skip = set(exclude)
    return [DueFeed(feed=_feed(row), etag=row["etag"], last_modified=row["last_modified"],
                    baseline_done=bool(row["baseline_done"]),
                    consecutive_failures=row["consecutive_failures"])
            for row in rows if row["id"] not in skip]


async def next_due_at(db: Database, exclude: Iterable[int] = ()) -> float | None:
    """The earliest next poll time among feeds not in `exclude`; None if there are none."""
    skip = list(exclude)
    marks = ",".join("?" * len(skip))
    where = f"WHERE id NOT IN ({marks})" if skip else ""
    row = await db.fetchone(f"SELECT MIN(next_poll_at) FROM feeds {where}", tuple(skip))
    return row[0] if row else None


async def record_success(db: Database, feed_id: int, now: float, next_poll_at: float, *,
                         etag: str | None, last_modified: str | None,
                         baseline_done: bool = True) -> None:
    """A poll that worked (200 or 304): health cleared, validators kept; the baseline is
    done once a parsed document recorded its entries (`baseline_done`), never undone."""
    async with db.transaction() as conn:
        await write_success(conn, feed_id, FeedState(now, next_poll_at, etag, last_modified,
                                                     baseline_done))


async def write_success(conn, feed_id: int, state: FeedState) -> None:
    """`record_success` inside the caller's transaction (the one storing the poll's entries)."""
    await conn.execute(
        "UPDATE feeds SET etag = ?, last_modified = ?, baseline_done = MAX(baseline_done, ?), "
        "last_success_at = ?, failing_since = NULL, consecutive_failures = 0, "
        "next_poll_at = ?, poll_interval_s = COALESCE(?, poll_interval_s) WHERE id = ?",
        (state.etag, state.last_modified, int(state.baseline_done), state.polled_at,
         state.next_poll_at, state.interval, feed_id),
    )


async def recent_publication_times(db: Database, feed_id: int,
                                   count: int = 20) -> list[float]:
    """Publication (first-seen when undated) times of the feed's last `count` entries."""
    rows = await db.fetchall(
        "SELECT published_at FROM entries WHERE feed_id = ? "
        "ORDER BY published_at DESC LIMIT ?", (feed_id, count))
    return [row[0] for row in rows]


async def poll_intervals(db: Database) -> dict[int, float]:
    """Each feed's interval as its last poll chose it (for /feeds)."""
    rows = await db.fetchall(
        "SELECT id, poll_interval_s FROM feeds WHERE poll_interval_s IS NOT NULL")
    return {row[0]: row[1] for row in rows}


async def record_failure(db: Database, feed_id: int, now: float, error: str,
                         next_poll_at: float) -> None:
    """A poll that failed: the one-line error, the failure count, backoff until next_poll_at."""
    await db.execute(
        "UPDATE feeds SET last_error = ?, last_error_at = ?, "
        "failing_since = COALESCE(failing_since, ?), "
        "consecutive_failures = consecutive_failures + 1, next_poll_at = ? WHERE id = ?",
        (error[:ERROR_MAX], now, now, next_poll_at, feed_id),
    )


async def count_entries_seen(conn, feed_id: int, new_entries: int,
                             now: float | None = None) -> None:
    """Add a poll's new entries to the feed's count, inside the caller's transaction; new
    ones make the feed fresh again (a later quiet spell is reported anew)."""
    await conn.execute("UPDATE feeds SET entries_seen = entries_seen + ? WHERE id = ?",
                       (new_entries, feed_id))
    if new_entries > 0:
        await conn.execute("UPDATE feeds SET last_new_at = ?, stale_reported = 0 WHERE id = ?",
                           (time.time() if now is None else now, feed_id))


async def take_health_reports(db: Database, now: float,
                              rules: HealthConfig | None = None) -> list[HealthReport]:
    """Feeds failing for `rules.report_after` not yet reported, reported ones that
    recovered, and feeds answering with nothing new for `rules.stale_after` not yet
    reported as stale.

    Marks them reported and writes them to the health report ledger
    (`store/health_reports.py`) in the same transaction, so each change is told
    once and none is lost on its way to the admins.
    """
    rules = rules or HealthConfig()
    columns = f"{_FEED_COLUMNS}, {_HEALTH_COLUMNS.replace('id, ', '', 1)}"
    async with db.transaction() as conn:
        cursor = await conn.execute(
            f"SELECT {columns}, failure_reported, failure_reported_since FROM feeds "
            "WHERE (failure_reported = 0 AND failing_since <= ?) "
            "OR (failure_reported = 1 AND failing_since IS NULL) ORDER BY id",
            (now - rules.report_after,))
        failures = [HealthReport(
            _feed(row), "recovered" if row["failure_reported"] else "failing", _health(row),
            row["failure_reported_since"] if row["failure_reported"] else row["failing_since"])
            for row in await cursor.fetchall()]
        cursor = await conn.execute(
            f"SELECT {columns} FROM feeds WHERE stale_reported = 0 AND failing_since IS NULL "
            "AND last_success_at IS NOT NULL AND COALESCE(last_new_at, created_at) <= ? "
            "ORDER BY id", (now - rules.stale_after,))
        stale = [HealthReport(_feed(row), "stale", _health(row), row["last_new_at"])
                 for row in await cursor.fetchall()]
        await conn.executemany(
            "UPDATE feeds SET failure_reported = ?, failure_reported_since = ? WHERE id = ?",
            [(0, None, r.feed.id) if r.state == "recovered" else (1, r.since, r.feed.id)
             for r in failures])
        await conn.executemany("UPDATE feeds SET stale_reported = 1 WHERE id = ?",
                               [(r.feed.id,) for r in stale])
        reports = failures + stale
        await add_reports(conn, [
            LedgerRow(r.feed.id, r.feed.name, r.feed.url, r.state, r.health.last_error,
                      r.since, r.health.last_success_at) for r in reports], now)
    return reports
