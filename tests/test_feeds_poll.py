"""The poll cycle end to end: a local feed server, a real SQLite file, the FeedPoller."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from fakes.feeds import CORPUS, FeedServer, append_item, fixture, refused_url
from fakes.parsers import NEVER_ENDS, parse_or_misbehave

from bot.config import FeedConfig, PollingConfig, StorageConfig
from bot.feeds.address import AddressGuard
from bot.feeds.fetch import make_client
from bot.feeds.parse_pool import ParsePool
from bot.feeds.poll import FeedPoller
from bot.store import feeds as feed_store
from bot.store.db import Database
from bot.store.entries import pending_entries

T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
POLLING = PollingConfig(interval=0.2, timeout=1.0, max_bytes=20_000, concurrency=16,
                        allow_private_addresses=True)
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(),
                                  reason=f"feed corpus not found at {CORPUS}")


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


class Alerts:
    """Records the health changes the poller tells."""

    def __init__(self) -> None:
        self.health: list[tuple[str, str]] = []

    async def on_feed_health(self, feed, report) -> None:
        self.health.append((feed.url, report.state))


async def pending_titles(db) -> list[str]:
    """What waits in the store for the match stage, which takes it from there."""
    return [stored.entry.title for _, stored in await pending_entries(db)]


@pytest.fixture
async def poller(db):
    alerts = Alerts()
    async with FeedPoller(db, POLLING, pending=asyncio.Event(),
                          on_feed_health=alerts.on_feed_health) as running:
        running.alerts = alerts
        yield running


async def follow(db, *urls_and_languages):
    await feed_store.sync_config_feeds(
        db, [FeedConfig(url=url, language=language) for url, language in urls_and_languages],
        now=T0)


async def stored_titles(db, url):
    rows = await db.fetchall(
        "SELECT e.title, e.link, e.language FROM entries e JOIN feeds f ON f.id = e.feed_id "
        "WHERE f.url = ? ORDER BY e.id", (url,))
    return [tuple(row) for row in rows]


async def test_first_poll_records_without_alerting(db, server, poller):
    url = server.add("/monde.xml", fixture("fr-monde.xml"))
    await follow(db, (url, "fr"))
    report = await poller.poll_once(T0)
    assert (report.parsed_feeds, report.new_entries, await pending_titles(db)) == (1, 0, [])
    assert not poller.pending.is_set()
    assert len(await stored_titles(db, url)) == 3
    feed = await feed_store.get_feed_by_url(db, url)
    health = await feed_store.get_health(db, feed.id)
    assert (health.entries_seen, health.last_success_at, health.last_error) == (3, T0, None)


async def test_second_poll_gets_304_and_parses_nothing_then_an_appended_item_is_new(
        db, server, poller):
    body = fixture("fr-monde.xml")
    url = server.add("/monde.xml", body)
    await follow(db, (url, "fr"))
    await poller.poll_once(T0)
    second = await poller.poll_once(T0 + 10)
    assert (second.polled, second.not_modified, second.parsed_feeds) == (1, 1, 0)
    assert server.requests_to("/monde.xml")[1]["If-None-Match"] == server.route("/monde.xml").etag

    server.change("/monde.xml", body=append_item(body, "Kiev reçoit des ATACMS",
                                                 "https://www.lemonde.fr/a/atacms.html?utm_source=x"))
    third = await poller.poll_once(T0 + 20)
    assert (third.parsed_feeds, third.new_entries) == (1, 1)
    assert poller.pending.is_set()  # the match stage is woken; the entry waits in the store
    [(feed, stored)] = await pending_entries(db)
    assert feed.url == url
    assert (stored.entry.title, stored.entry.link, stored.entry.language) == (
        "Kiev reçoit des ATACMS", "https://www.lemonde.fr/a/atacms.html", "fr")
    assert stored.id > 0


@needs_corpus
async def test_real_feeds_served_locally_parse_with_right_titles_links_languages(
        db, server, poller):
    cases = {
        "fr/lemonde-une-2017-03-09.xml": ("fr", 21, (
            "Comment Fillon a durci son discours depuis les révélations du « Canard »")),
        "en/bbc-news-home-2021-10-18.xml": ("en", 69, (
            "Sir David Amess: MP murder suspect held under Terrorism Act")),
        "ru/lenta-news-2021-10-03.xml": ("ru", 200, (
            "Стали известны подробности убийства с мумификацией в Одинцове")),
        "ru/pravda-com-ua-ru-2020-09-29-cp1251.xml": (
            "ru", 20, 'День сердца: инфаркты и инсульты значительно "помолодели"'),
    }
    poller.polling = PollingConfig(interval=0.2, timeout=2.0, max_bytes=2_000_000,
                                   allow_private_addresses=True)
    urls = {}
    for name, (language, _, _) in cases.items():
        urls[name] = server.add("/" + name, (CORPUS / "feeds" / name).read_bytes(),
                                content_type="application/rss+xml", gzip=True)
        await follow(db, (urls[name], language))
    first = await poller.poll_once(T0)
    assert first.parsed_feeds == 4 and first.failed == 0
    for name, (language, count, title) in cases.items():
        rows = await stored_titles(db, urls[name])
        assert len(rows) == count
        assert rows[0][0] == title
        assert all(lang == language and link.startswith("http") for _, link, lang in rows)

    second = await poller.poll_once(T0 + 10)
    # the BBC's <ttl>15</ttl> asks for a quarter of an hour between polls: it is not due
    assert (second.polled, second.not_modified, second.parsed_feeds) == (3, 3, 0)

    lenta = "ru/lenta-news-2021-10-03.xml"
    server.change("/" + lenta, body=append_item(server.route("/" + lenta).body,
                                                "Новая статья", "https://lenta.ru/news/new/"))
    third = await poller.poll_once(T0 + 20)
    assert (third.parsed_feeds, third.not_modified, third.new_entries) == (1, 2, 1)
    assert await pending_titles(db) == ["Новая статья"]
    bbc = await poller.poll_once(T0 + 15 * 60 + 1)
    assert urls["en/bbc-news-home-2021-10-18.xml"] in {o.feed.url for o in bbc.outcomes}


async def test_every_fault_leaves_a_health_error_and_backs_off_and_a_healthy_feed_is_fine(
        db, server, poller):
    monde = fixture("fr-monde.xml")
    cp1251 = fixture("ru-cp1251.xml")
    healthy = server.add("/ok.xml", fixture("en-bbc.atom.xml"))
    faults = {
        server.add("/404", status=404): "HTTP 404 Not Found",
        server.add("/500", status=500): "HTTP 500 Internal Server Error",
        server.add("/hang", monde, hang=3.0): "timed out after 1s",
        server.add("/drip", monde, drip=0.01): "timed out after 1s",
        server.add("/big", b"<rss>" + b" " * 30_000): "response larger than 20000 bytes",
        server.add("/html", fixture("page.html"), content_type="text/html; charset=utf-8"):
            "not a feed (text/html)",
        server.add("/cut", monde[:509]): "truncated XML (<unknown>:10:99: no element found)",
        server.add("/loop", redirect="/loop"): "too many redirects",
        server.add("/private", redirect="http://10.0.0.1/rss"): "refused: private address 10.0.0.1",
        refused_url(): "connection refused",
    }
    # Odd encodings are not faults: declared only in the header, or declared wrongly.
    no_decl = server.add("/nodecl", cp1251.replace(b' encoding="windows-1251"', b""),
                         content_type="text/xml; charset=windows-1251")
    wrong_decl = server.add("/wrongdecl", cp1251.replace(b"windows-1251", b"utf-8"),
                            content_type="application/rss+xml")
    await follow(db, (healthy, "en"), (no_decl, "ru"), (wrong_decl, "ru"),
                 *[(url, "fr") for url in faults])
    await poller.client.aclose()
    poller.client = make_client(POLLING, AddressGuard(exempt=(ipaddress.ip_network("127.0.0.0/8"),)))

    report = await poller.poll_once(T0)

    assert report.outcome(healthy).parsed == 3 and report.outcome(healthy).error is None
    assert report.outcome(no_decl).parsed == 2
    assert report.outcome(wrong_decl).parsed == 2
    rows = await stored_titles(db, no_decl)
    assert rows[1][0] == "Войска НАТО на Украине: позиция Франции"
    assert report.failed == len(faults)
    for url, error in faults.items():
        feed = await feed_store.get_feed_by_url(db, url)
        health = await feed_store.get_health(db, feed.id)
        assert health.last_error == error, url
        assert "\n" not in health.last_error
        assert health.consecutive_failures == 1 and health.failing_since == T0
        assert health.next_poll_at >= T0 + 2 * POLLING.interval * 0.9  # backed off
    ok = await feed_store.get_health(db, (await feed_store.get_feed_by_url(db, healthy)).id)
    assert ok.last_error is None and ok.next_poll_at <= T0 + POLLING.interval * 1.1


async def test_same_link_in_two_feeds_is_new_in_each_for_its_own_language(db, server, poller):
    a = server.add("/a.xml", fixture("fr-monde.xml"))
    b = server.add("/b.xml", fixture("ru-cp1251.xml"), content_type="application/rss+xml")
    await follow(db, (a, "fr"), (b, "ru"))
    await poller.poll_once(T0)
    shared = "https://www.reuters.com/world/oreshnik-2024-11-21/"
    server.change("/a.xml", body=append_item(fixture("fr-monde.xml"), "Orechnik", shared,
                                             guid="a-1"))
    server.change("/b.xml", body=append_item(
        fixture("ru-cp1251.xml"), "Oreshnik", shared + "?utm_source=rss", guid="b-1"))
    report = await poller.poll_once(T0 + 10)
    # Each copy goes on to matching against its own feed's language query; the
    # outbox keeps one message per link and chat.
    assert report.parsed_feeds == 2 and report.new_entries == 2
    assert len(await pending_entries(db)) == 2
    count = await db.fetchone("SELECT COUNT(*) FROM entries WHERE alert_key = ?", (shared,))
    assert count[0] == 2


async def test_a_feed_failing_for_a_day_is_reported_once_and_again_on_recovery(
        db, server, poller):
    url = server.add("/flaky.xml", status=503)
    await follow(db, (url, "en"))
    await poller.poll_once(T0)
    await poller.poll_once(T0 + 12 * 3600)
    assert poller.alerts.health == []
    await poller.poll_once(T0 + 25 * 3600)
    await poller.poll_once(T0 + 32 * 3600)
    assert poller.alerts.health == [(url, "failing")]
    server.change("/flaky.xml", status=200, body=fixture("en-bbc.atom.xml"))
    await poller.poll_once(T0 + 40 * 3600)
    await poller.poll_once(T0 + 41 * 3600)
    assert poller.alerts.health == [(url, "failing"), (url, "recovered")]
    health = await feed_store.get_health(db, (await feed_store.get_feed_by_url(db, url)).id)
    assert health.consecutive_failures == 0 and health.failing_since is None


async def test_the_loop_keeps_healthy_feeds_on_schedule_while_one_hangs(db, server):
    fast = server.add("/fast.xml", fixture("en-bbc.atom.xml"))
    stuck = server.add("/stuck.xml", fixture("fr-monde.xml"), hang=10.0)
    await follow(db, (fast, "en"))
    stop = asyncio.Event()
    async with FeedPoller(db, replace(POLLING, timeout=3.0)) as poller:
        task = asyncio.create_task(poller.run(stop))
        try:
            # The first parse starts a worker process, which can take seconds on a busy
            # machine: the stuck feed comes once the fast one has been stored.
            while not await stored_titles(db, fast):
                await asyncio.sleep(0.02)
            await follow(db, (fast, "en"), (stuck, "fr"))
            while server.hits("/stuck.xml") == 0:
                await asyncio.sleep(0.02)
            hanging_since = server.hits("/fast.xml")
            # Every ~0.2 s, not blocked by the feed whose request hangs meanwhile.
            while server.hits("/fast.xml") < hanging_since + 3:
                assert server.hits("/stuck.xml") == 1 and not task.done()
                await asyncio.sleep(0.02)
            stuck_id = (await feed_store.get_feed_by_url(db, stuck)).id
            while (health := await feed_store.get_health(db, stuck_id)).last_error is None:
                await asyncio.sleep(0.02)  # until the hanging request meets its timeout
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    assert health.last_error == "timed out after 3s"
    assert server.hits("/stuck.xml") <= 2  # then backed off


async def test_retention_limits_what_is_new_and_what_is_kept(db, server):
    url = server.add("/monde.xml", fixture("fr-monde.xml"))
    await follow(db, (url, "fr"))
    storage = StorageConfig(retention=2 * 86400.0)
    async with FeedPoller(db, POLLING, storage) as poller:
        await poller.poll_once(T0)
        fresh_and_stale = append_item(fixture("fr-monde.xml"), "Hier", "https://a.example/1")
        fresh_and_stale = fresh_and_stale.replace(
            b"<description>Hier</description>",
            b"<description>Hier</description><pubDate>Sun, 01 Sep 2024 10:00:00 GMT</pubDate>")
        server.change("/monde.xml", body=fresh_and_stale)
        report = await poller.poll_once(T0 + 10)
        assert report.parsed_feeds == 1 and report.new_entries == 0  # published long ago
        assert len(await stored_titles(db, url)) == 4
        server.change("/monde.xml", body=fixture("ru-cp1251.xml"))
        await poller.poll_once(T0 + 86400)
        pruned = await poller.prune(T0 + 3 * 86400)
    assert pruned == 4  # the French items no longer in the feed; the Russian ones stay
    assert [t for t, _, _ in await stored_titles(db, url)] == [
        "Удар по Днепру: Путин назвал новую ракету «Орешник»",
        "Войска НАТО на Украине: позиция Франции"]


async def test_a_304_to_the_first_poll_does_not_arm_the_baseline(db, server, poller):
    url = server.add("/lazy.xml", status=304)
    await follow(db, (url, "fr"))
    first = await poller.poll_once(T0)
    assert first.outcome(url).status == "failed"
    server.change("/lazy.xml", status=200, body=fixture("fr-monde.xml"))
    second = await poller.poll_once(T0 + 3600)
    assert (second.parsed_feeds, second.new_entries, await pending_titles(db)) == (1, 0, [])


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_of_a_busy_feed_is_honoured_up_to_the_cap(db, server, poller, status):
    asks_an_hour = server.add("/hour.xml", status=status, headers=(("Retry-After", "3600"),))
    asks_a_week = server.add("/week.xml", status=status, headers=(("Retry-After", "604800"),))
    await follow(db, (asks_an_hour, "en"), (asks_a_week, "en"))
    poller.polling = PollingConfig(interval=0.2, timeout=1.0, allow_private_addresses=True,
                                   max_retry_after=7200.0)
    await poller.poll_once(T0)
    hour = await feed_store.get_health(db, (await feed_store.get_feed_by_url(db, asks_an_hour)).id)
    week = await feed_store.get_health(db, (await feed_store.get_feed_by_url(db, asks_a_week)).id)
    assert T0 + 3600 <= hour.next_poll_at < T0 + 3700
    assert week.next_poll_at == T0 + 7200  # the cap, not a week
    assert hour.last_error.startswith(f"HTTP {status}")


async def test_a_feed_whose_parse_never_ends_is_failed_at_the_deadline_and_others_go_on(
        db, server):
    never = server.add("/never.xml", fixture("fr-monde.xml") + NEVER_ENDS)
    healthy = [server.add(f"/ok{n}.xml", fixture("en-bbc.atom.xml")) for n in range(6)]
    await follow(db, (never, "fr"), *[(url, "en") for url in healthy])
    pool = ParsePool(2, deadline=1.5)
    try:
        async with FeedPoller(db, POLLING, pool=pool, parse=parse_or_misbehave) as poller:
            report = await asyncio.wait_for(poller.poll_once(T0), 60)
    finally:
        pool.close()
    assert report.outcome(never).error == "parse took over 1.5s; its worker was stopped"
    assert [report.outcome(url).parsed for url in healthy] == [3] * 6
    health = await feed_store.get_health(db, (await feed_store.get_feed_by_url(db, never)).id)
    assert health.last_error == "parse took over 1.5s; its worker was stopped"
    assert health.consecutive_failures == 1 and health.next_poll_at > T0


async def test_feeds_that_hang_never_take_the_slots_a_healthy_feed_needs(db, server):
    fast = server.add("/fast.xml", fixture("en-bbc.atom.xml"))
    await follow(db, (fast, "en"))
    polling = replace(POLLING, timeout=4.0, concurrency=4)  # 1 slot kept for proven feeds
    stop = asyncio.Event()
    async with FeedPoller(db, polling) as poller:
        await poller.poll_once(T0)  # proven: its baseline is done and it has not failed
        stuck = [server.add(f"/stuck{n}.xml", fixture("fr-monde.xml"), hang=10.0)
                 for n in range(8)]
        await follow(db, (fast, "en"), *[(url, "fr") for url in stuck])
        await db.execute("UPDATE feeds SET next_poll_at = 0")
        task = asyncio.create_task(poller.run(stop))
        try:
            while sum(server.hits(f"/stuck{n}.xml") for n in range(8)) < 3:
                await asyncio.sleep(0.02)
            hanging_since = server.hits("/fast.xml")
            # While every slot the doubtful feeds may use is held by a hanging request,
            # the healthy feed keeps its interval (~0.2 s) in the slot kept for it.
            while server.hits("/fast.xml") < hanging_since + 4:
                assert sum(server.hits(f"/stuck{n}.xml") for n in range(8)) == 3
                await asyncio.sleep(0.02)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
