"""Hostile feeds, each made here and served on 127.0.0.1, through the whole poll cycle.

Every attack must end as a contained outcome: the feed's health holds one line, or
its entries are stored with the damage confined to where it was; a healthy feed
polled beside them is untouched; nothing raises. Then feedparser's own test corpus
(../shared/corpus/feedparser-tests) goes through fetch -> parse with no crash.
(The gzip bomb, deep content-coding stacks and address checks have their own
tests in test_feeds_fetch.py, which measure memory and the event loop.)
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fakes.feeds import CORPUS, FeedServer, fixture

from bot.config import FeedConfig, PollingConfig
from bot.feeds.address import AddressGuard
from bot.feeds.fetch import FetchError, make_client
from bot.feeds.poll import FeedPoller, fetch_and_parse
from bot.store import feeds as feed_store
from bot.store.db import Database

T0 = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
POLLING = PollingConfig(interval=60.0, timeout=2.0, max_bytes=2_000_000, concurrency=16,
                        max_retry_after=7200.0)
FEEDPARSER_TESTS = CORPUS / "feedparser-tests"


def rss(items: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{head}<rss version="2.0"><channel>'
            f"<title>hostile</title>{items}</channel></rss>").encode()


def item(title: str, link: str = "https://news.example/a", extra: str = "") -> str:
    return f"<item><title>{title}</title><link>{link}</link>{extra}</item>"


@dataclass(frozen=True)
class Attack:
    route: dict  # FeedServer.add fields
    expect: Callable[[object, list[tuple]], None]  # (health, stored rows) -> asserts


def fails_with(prefix: str) -> Callable:
    def check(health, rows) -> None:
        assert health.last_error is not None and health.last_error.startswith(prefix), \
            health.last_error
        assert "\n" not in health.last_error and rows == []
    return check


def stores(predicate: Callable[[list[tuple]], bool]) -> Callable:
    def check(health, rows) -> None:
        assert health.last_error is None, health.last_error
        assert predicate(rows), rows[:3]
    return check


LAUGHS = ('<!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
          '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
          '<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]>')
ATTACKS = {
    "billion laughs": Attack(
        {"body": rss(item("&g;") + item("plain title", "https://news.example/b"), LAUGHS)},
        lambda health, rows: all(len(r[0]) < 10_000 for r in rows)),
    "external entity": Attack(
        {"body": rss(item("&xxe;"), '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')},
        lambda health, rows: all("root:" not in r[0] for r in rows)),
    "oversized body": Attack({"body": rss(item("x" * 3_000_000))},
                             fails_with("response larger than 2000000 bytes")),
    "surrogate references": Attack(
        {"body": rss(item("emoji &#55357;&#56832; here") + item("next", "https://news.example/b"))},
        stores(lambda rows: [r[0] for r in rows] == ["emoji 😀 here", "next"])),
    "one bad byte": Attack(
        {"body": rss(item("Войска и Украина") + item("Украина", "https://news.example/b"))
         .replace("Войска".encode(), "Войска".encode()[:-1])},
        stores(lambda rows: rows[1][0] == "Украина" and rows[0][0].endswith("и Украина"))),
    "deep nesting": Attack(
        {"body": rss(item("deep", extra="<description>" + "<div>" * 50_000 + "x"
                          + "</div>" * 50_000 + "</description>"))},
        lambda health, rows: True),  # any contained outcome: a stored entry or one line
    "ten thousand items": Attack(
        {"body": rss("".join(item(f"t{i}", f"https://news.example/{i}") for i in range(10_000)))},
        stores(lambda rows: len(rows) == 10_000)),
    "control characters": Attack(
        {"body": rss(item("nul\x00 bell\x07 title"))},
        lambda health, rows: True),  # XML refuses them: one line, or a loose parse
    "markup in a plain-text title": Attack(  # text, kept as text: rendering escapes it
        {"body": rss(item("&lt;script&gt;alert(1)&lt;/script&gt;Ukraine"))},
        stores(lambda rows: rows[0][0] == "<script>alert(1)</script>Ukraine")),
    "markup in an HTML summary": Attack(
        {"body": rss(item("s", extra="<description>&lt;script&gt;alert(1)&lt;/script&gt;"
                                     "Ukr&lt;b&gt;aine&lt;/b&gt;</description>"))},
        stores(lambda rows: rows[0][2] == "Ukraine")),
    "absurd dates": Attack(
        {"body": rss(item("old", extra="<pubDate>Mon, 01 Jan 99999 00:00:00 GMT</pubDate>"))},
        stores(lambda rows: len(rows) == 1)),
    "tracking and quotes in links": Attack(
        {"body": rss(item("l", "https://news.example/a?ref=o'brien&amp;utm_source=x&amp;id=%41"))},
        stores(lambda rows: rows[0][1] == "https://news.example/a?ref=o'brien&id=%41")),
    "not a feed": Attack({"body": b"<html><body>hello</body></html>",
                          "content_type": "text/html"}, fails_with("not a feed")),
    "truncated": Attack({"body": rss(item("cut"))[:-20]}, fails_with("truncated XML")),
    "304 to a first request": Attack({"status": 304}, fails_with("HTTP 304")),
    "429 asking for a week": Attack({"status": 429, "headers": (("Retry-After", "604800"),)},
                                    fails_with("HTTP 429")),
    "slow drip": Attack({"body": rss(item("slow")), "drip": 0.05}, fails_with("timed out")),
    "redirect loop": Attack({"redirect": "/attack/redirect-loop"}, fails_with("too many redirects")),
    "redirect to metadata": Attack({"redirect": "http://metadata.example/latest"},
                                   fails_with("refused: private address 100.100.100.200")),
}


def path_of(attack: str) -> str:
    return "/attack/" + attack.replace(" ", "-")


async def stub_resolver(host: str, port: int):
    return [ipaddress.ip_address({"metadata.example": "100.100.100.200"}[host])]


async def test_every_attack_is_contained_and_a_healthy_feed_is_untouched(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    guard = AddressGuard(exempt=(ipaddress.ip_network("127.0.0.0/8"),), resolve=stub_resolver)
    try:
        with FeedServer() as server:
            urls = {name: server.add(path_of(name), **attack.route)
                    for name, attack in ATTACKS.items()}
            healthy = server.add("/healthy.xml", fixture("fr-monde.xml"))
            await feed_store.sync_config_feeds(
                db, [FeedConfig(url=u, language="ru") for u in [*urls.values(), healthy]],
                now=T0)
            async with FeedPoller(db, POLLING, client=make_client(POLLING, guard)) as poller:
                report = await poller.poll_once(T0)
        assert report.outcome(healthy).parsed == 3
        for name, attack in ATTACKS.items():
            feed = await feed_store.get_feed_by_url(db, urls[name])
            health = await feed_store.get_health(db, feed.id)
            rows = [tuple(r) for r in await db.fetchall(
                "SELECT title, link, summary FROM entries WHERE feed_id = ? ORDER BY id",
                (feed.id,))]
            try:
                attack.expect(health, rows)
            except AssertionError as exc:
                raise AssertionError(f"{name}: {exc}") from None
            assert "unexpected error" not in (health.last_error or ""), (name, health.last_error)
        week = await feed_store.get_health(
            db, (await feed_store.get_feed_by_url(db, urls["429 asking for a week"])).id)
        assert week.next_poll_at == T0 + 7200  # Retry-After obeyed up to the cap
    finally:
        await db.close()


@pytest.mark.skipif(not FEEDPARSER_TESTS.is_dir(),
                    reason=f"feedparser's test corpus not found at {FEEDPARSER_TESTS}")
async def test_feedparsers_own_test_corpus_goes_through_fetch_and_parse_without_a_crash():
    files = sorted(p for p in FEEDPARSER_TESTS.rglob("*") if p.is_file() and p.name != "LICENSE")
    assert len(files) > 2000
    polling = PollingConfig(timeout=10.0, allow_private_addresses=True, concurrency=16)
    slots = asyncio.Semaphore(16)
    crashes: list[str] = []
    parsed = refused = 0
    with FeedServer() as server:
        urls = [server.add(f"/{i}", f.read_bytes(), content_type="application/xml")
                for i, f in enumerate(files)]
        async with make_client(polling) as client:
            async def one(url: str, path) -> str:
                async with slots:
                    try:
                        await fetch_and_parse(client, url, "en", polling)
                        return "parsed"
                    except FetchError:
                        return "refused"  # an expected, one-line failure
                    except Exception as exc:
                        crashes.append(f"{path.relative_to(FEEDPARSER_TESTS)}: {exc!r}")
                        return "crashed"

            outcomes = await asyncio.gather(*(one(u, f) for u, f in zip(urls, files)))
    parsed, refused = outcomes.count("parsed"), outcomes.count("refused")
    assert crashes == []
    assert parsed + refused == len(files) and parsed > 1500
