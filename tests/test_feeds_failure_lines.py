"""Whatever a feed's server does, its failure is one short line: in the feed's health,
in the service's log, and on `preview`'s stderr; a server's kilobytes stay out of rows."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpcore
import pytest

from bot.config import FeedConfig, PollingConfig
from bot.feeds.address import AddressGuard, GuardedNetwork
from bot.feeds.poll import FeedPoller
from bot.store import feeds as feed_store
from bot.store.db import Database
from tests.fakes.feeds import FeedServer, fixture
from tests.test_cli import cli, write_config

T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
POLLING = PollingConfig(interval=60.0, timeout=2.0, max_bytes=100_000,
                        allow_private_addresses=True)


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


async def health_after_one_poll(tmp_path, url: str):
    db = await Database.open(tmp_path / "bot.sqlite3")
    try:
        await feed_store.sync_config_feeds(db, [FeedConfig(url=url, language="en")], now=T0)
        async with FeedPoller(db, POLLING) as poller:
            report = await poller.poll_once(T0)
        feed = await feed_store.get_feed_by_url(db, url)
        return report, await feed_store.get_health(db, feed.id)
    finally:
        await db.close()


async def test_a_six_kilobyte_reason_phrase_is_kept_as_one_short_line(tmp_path, server):
    url = server.add("/down.xml", status=503, reason="Service Unavailable " + "x" * 6000)
    _, health = await health_after_one_poll(tmp_path, url)
    assert health.last_error.startswith("HTTP 503 Service Unavailable x")
    assert len(health.last_error) <= 200 and "\n" not in health.last_error


async def test_the_stored_error_is_bounded_whatever_its_source(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    feed = await feed_store.add_feed(db, "http://feed.example/rss", "en")
    await feed_store.record_failure(db, feed.id, T0, "E" * 100_000, T0 + 60)
    health = await feed_store.get_health(db, feed.id)
    await db.close()
    assert health.last_error == "E" * feed_store.ERROR_MAX


async def test_a_redirect_to_port_99999_is_one_line_in_health_and_log(tmp_path, server,
                                                                       caplog):
    url = server.add("/moved.xml", redirect="http://127.0.0.1:99999/feed.xml")
    with caplog.at_level(logging.INFO):
        report, health = await health_after_one_poll(tmp_path, url)
    assert [outcome.status for outcome in report.outcomes] == ["failed"]
    assert health.last_error.startswith("refused: malformed URL (Port out of range")
    lines = [r for r in caplog.records if r.name.startswith("bot.")]
    assert len(lines) == 1 and lines[0].exc_info is None, [r.getMessage() for r in lines]
    assert "moved.xml: refused: malformed URL" in lines[0].getMessage()
    assert "ExceptionGroup" not in caplog.text and "Traceback" not in caplog.text


# Redirects that fail before any packet leaves the machine (no DNS query either).
@pytest.mark.parametrize(("location", "error"), [
    ("http://127.0.0.1:65536/f", "refused: malformed URL (Port out of range"),
    ("http://127.0.0.1:-1/f", "refused: malformed URL (Port could not be cast"),
    ("//127.0.0.1:99999/f", "refused: malformed URL (Port out of range"),
    ("http://a..b/f", "cannot resolve a..b: not a valid host name"),
    ("http://" + "a" * 64 + ".test/f", "cannot resolve aaaa"),
    ("http://127.0.0.1:abc/f", "RemoteProtocolError: Invalid URL in location header"),
    ("ftp://127.0.0.1/f", "refused: not an http(s) URL"),
])
async def test_every_broken_redirect_is_one_line_and_no_traceback(tmp_path, server, caplog,
                                                                  location, error):
    url = server.add("/moved.xml", redirect=location)
    with caplog.at_level(logging.INFO):
        _, health = await health_after_one_poll(tmp_path, url)
    assert health.last_error.startswith(error), health.last_error
    assert "\n" not in health.last_error and len(health.last_error) <= 500
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_connect_httpcore_leaves_unmapped_is_a_connect_error():
    # anyio wraps the socket's OverflowError in an ExceptionGroup; the feed sees one
    # ConnectError, as for any address that cannot be reached.
    network = GuardedNetwork(AddressGuard(allow_private=True))
    with pytest.raises(httpcore.ConnectError, match="port must be 0-65535"):
        await network.connect_tcp("127.0.0.1", 99999)


def test_preview_names_a_feed_redirected_to_port_99999_in_one_line(tmp_path):
    with FeedServer() as server:
        moved = server.add("/moved.xml", redirect="http://127.0.0.1:99999/feed.xml")
        good = server.add("/fr.xml", fixture("fr-monde.xml"))
        config = write_config(tmp_path, [(moved, "en"), (good, "fr")])
        result = cli("preview", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1  # SPEC: a feed could not be read
    assert "Traceback" not in result.stderr and "ExceptionGroup" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("coverage-bot:")]
    assert line.startswith(f"coverage-bot: {moved}: refused: malformed URL")
    assert "[troops-ukraine]" in result.stdout or "[oreshnik]" in result.stdout
