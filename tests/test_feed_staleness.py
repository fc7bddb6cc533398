"""A feed that answers but publishes nothing new for health.stale_after is reported once as
stale, and a failing feed is reported after health.report_after: through a local feed
server, a real SQLite file and the FeedPoller."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes.feeds import FeedServer, append_item, fixture

from bot.config import FeedConfig, HealthConfig, PollingConfig
from bot.feeds.poll import FeedPoller
from bot.store import feeds as feed_store
from bot.store import health_reports as ledger
from bot.store.db import Database

T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
DAY = 86400.0
POLLING = PollingConfig(interval=0.2, timeout=1.0, max_bytes=20_000, concurrency=4,
                        allow_private_addresses=True)


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


class Told:
    def __init__(self) -> None:
        self.reports = []

    async def __call__(self, feed, report) -> None:
        self.reports.append(report)

    @property
    def states(self) -> list[str]:
        return [report.state for report in self.reports]


async def poller_for(db, url: str, health: HealthConfig) -> tuple[FeedPoller, Told]:
    await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language="fr", name="RFI")],
                                       now=T0)
    told = Told()
    return FeedPoller(db, POLLING, on_feed_health=told, health=health), told


async def test_a_feed_answering_with_nothing_new_is_reported_stale_once_then_again_after_news(
        db, server):
    body = fixture("fr-monde.xml")
    url = server.add("/quiet.xml", body=body)
    poller, told = await poller_for(db, url, HealthConfig(stale_after=7 * DAY))
    async with poller:
        await poller.poll_once(T0)  # the first poll's entries are new to the bot
        await poller.poll_once(T0 + 3 * DAY)
        await poller.poll_once(T0 + 6.9 * DAY)
        assert told.states == []
        await poller.poll_once(T0 + 7.1 * DAY)  # still 200, still the same items
        assert told.states == ["stale"]
        [stale] = told.reports
        assert stale.since == T0 and stale.health.last_success_at == T0 + 7.1 * DAY
        await poller.poll_once(T0 + 9 * DAY)
        assert told.states == ["stale"]  # once

        server.change("/quiet.xml", body=append_item(body, "Nouvelle", "https://x.fr/new"))
        await poller.poll_once(T0 + 10 * DAY)  # news: fresh again, nothing said
        await poller.poll_once(T0 + 16 * DAY)
        assert told.states == ["stale"]
        await poller.poll_once(T0 + 17.5 * DAY)  # quiet again for a week
        assert told.states == ["stale", "stale"] and told.reports[1].since == T0 + 10 * DAY

    [first, second] = await ledger.waiting_reports(db)
    assert (first.state, first.since, first.last_success_at) == ("stale", T0, T0 + 7.1 * DAY)
    assert second.since == T0 + 10 * DAY


async def test_a_failing_feed_is_not_stale_and_is_reported_after_report_after(db, server):
    url = server.add("/down.xml", status=503)
    poller, told = await poller_for(db, url, HealthConfig(report_after=6 * 3600.0,
                                                          stale_after=DAY))
    async with poller:
        await poller.poll_once(T0)
        await poller.poll_once(T0 + 5 * 3600)
        assert told.states == []
        await poller.poll_once(T0 + 6.5 * 3600)
        assert told.states == ["failing"]
        await poller.poll_once(T0 + 3 * DAY)  # failing, not stale: one report only
        assert told.states == ["failing"]
        [failing] = told.reports
        assert failing.since == T0 and failing.health.last_success_at is None
        server.change("/down.xml", status=200, body=fixture("fr-monde.xml"))
        await poller.poll_once(T0 + 4 * DAY)
        assert told.states == ["failing", "recovered"]
        assert told.reports[1].since == T0  # the recovery says since when it had failed
