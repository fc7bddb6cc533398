"""Benchmark: how soon a new entry is seen, and at what cost in requests, for fixed
5-minute polling, adaptive polling, and feeds whose hub pushes.

A simulated day of publishing drawn from the corpus feeds' real entry timestamps
(every fr/en/ru corpus feed: busy wires and quiet blogs): each feed's last 24 h
of entries are published during the day at their real times of day, what came
before is already there at the start. A local server on 127.0.0.1 serves each
feed as it stood at the virtual time the poller asks for (header X-Virtual-Now),
with an ETag, so unchanged feeds answer 304. The poller is the real one's parts:
fetch_feed (httpx) and parse_entries (feedparser), scheduled on a virtual clock
by bot/feeds/adaptive.py (adaptive) or at a fixed 5 minutes (baseline, the
former default). Delay: from an entry's publication to the poll that first saw it.

Pushes: every feed of the day pushed through the real WebSub receiver (aiohttp,
signature checked) into a parse, timed in real seconds, with the backstop poll
at polling.max_interval counted as its requests.

    .venv/bin/python benchmarks/polling_delay.py [--hours 24]
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import hashlib
import heapq
import hmac
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import feedparser
import httpx
from aiohttp import web

from bot.config import PollingConfig
from bot.feeds.adaptive import PollingPolicy, feed_interval, requested_delay
from bot.feeds.fetch import fetch_feed, make_client
from bot.feeds.parse import parse_entries
from bot.feeds.websub_receiver import receiver_app, start_receiver
from bot.store import feeds as feed_store
from bot.store import websub as websub_store
from bot.store.db import Database

CORPUS = REPO.parent / "shared" / "corpus" / "feeds"
DAY = 86400.0
FIXED = 300.0
POLICY = PollingPolicy(default=300.0, minimum=60.0, maximum=7200.0)
SHOWN = 30  # entries a feed document lists


@dataclass
class SimFeed:
    name: str
    history: list[tuple[float, str, str]]  # (virtual time, guid, title), before the day
    day: list[tuple[float, str, str]]  # published during the day

    def document(self, now: float) -> tuple[bytes, str]:
        items = [e for e in self.history + self.day if e[0] <= now][-SHOWN:]
        newest = items[-1][1] if items else ""
        etag = '"' + hashlib.sha1(f"{newest}{len(items)}".encode()).hexdigest()[:16] + '"'
        rows = "".join(
            f"<item><title>{escape(title)}</title><guid>{escape(guid)}</guid>"
            f"<pubDate>{format_datetime(datetime.fromtimestamp(when, UTC), usegmt=True)}"
            f"</pubDate></item>" for when, guid, title in reversed(items))
        body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{escape(self.name)}</title>{rows}</channel></rss>").encode()
        return body, etag


def load_day(hours: float) -> list[SimFeed]:
    """Each corpus feed's real timestamps: its last `hours` become the day, shifted so
    every feed's day starts at virtual time 0 (+ one day, so history stays positive)."""
    feeds = []
    span = hours * 3600
    for language in ("fr", "en", "ru"):
        for path in sorted((CORPUS / language).glob("*")):
            doc = feedparser.parse(path.read_bytes())
            stamped = []
            for i, item in enumerate(doc.entries):
                parsed = item.get("published_parsed") or item.get("updated_parsed")
                if parsed:
                    stamped.append((calendar.timegm(parsed), f"{path.stem}-{i}",
                                    item.get("title", "") or f"item {i}"))
            if not stamped:
                continue
            stamped.sort()
            end = stamped[-1][0]
            shift = DAY - (end - span)  # the day is [DAY, DAY + span]
            moved = [(t + shift, guid, title) for t, guid, title in stamped]
            feeds.append(SimFeed(path.stem, [e for e in moved if e[0] < DAY],
                                 [e for e in moved if e[0] >= DAY]))
    return feeds


async def serve(feeds: list[SimFeed]) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        feed = feeds[int(request.match_info["index"])]
        body, etag = feed.document(float(request.headers["X-Virtual-Now"]))
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag},
                            content_type="application/rss+xml", charset="utf-8")

    app = web.Application()
    app.router.add_get("/f/{index}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@dataclass
class Result:
    requests: int = 0
    parsed: int = 0
    delays: list[float] = field(default_factory=list)


async def simulate(feeds: list[SimFeed], base: str, mode: str, span: float) -> Result:
    """Poll every feed from virtual time DAY to DAY + span; `mode` fixed | adaptive |
    backstop (pushes carry the news; polls only at max_interval)."""
    polling = PollingConfig(allow_private_addresses=True, timeout=10.0)
    result = Result()
    seen: list[dict[str, float]] = [{} for _ in feeds]
    published: list[list[float]] = [[] for _ in feeds]
    etags: list[str | None] = [None] * len(feeds)
    queue = [(DAY, i) for i in range(len(feeds))]
    heapq.heapify(queue)
    end = DAY + span
    # Polls go on past the day until its last entries are seen (a backstop's worth),
    # so a slow schedule's late finds count as the delays they are.
    stop = end + POLICY.maximum
    async with make_client(polling) as client:
        while queue:
            now, i = heapq.heappop(queue)
            if now > stop:
                continue
            client.headers["X-Virtual-Now"] = repr(now)
            fetched = await fetch_feed(client, f"{base}/f/{i}", polling, etag=etags[i])
            counted = now <= end  # the day's cost; later polls only find its last entries
            result.requests += counted
            if not fetched.not_modified:
                etags[i] = fetched.etag
                result.parsed += counted
                entries = parse_entries(fetched.body, fetched.content_type, "en",
                                        datetime.fromtimestamp(now, UTC))
                for entry in entries:
                    if entry.key not in seen[i]:
                        seen[i][entry.key] = now
                        published[i].append(entry.published.timestamp())
            if mode == "fixed":
                interval = FIXED
            elif mode == "backstop":
                interval = POLICY.maximum
            elif mode == "quarter":  # what-if: a quarter of the gap (not SPEC's rule)
                gap = feed_interval(POLICY, None, published[i][-40:], now)
                interval = max(POLICY.minimum, gap / 4)
            else:
                interval = feed_interval(POLICY, None, published[i][-40:], now)
            asked = requested_delay(fetched.hints, None, now)
            heapq.heappush(queue, (now + max(interval, asked), i))
    for i, feed in enumerate(feeds):
        for when, guid, _title in feed.day:
            if guid in seen[i]:
                result.delays.append(seen[i][guid] - when)
    return result


async def push_delays(feeds: list[SimFeed], pushes: int) -> list[float]:
    """Real seconds from a hub's POST to the parsed entries, through the receiver."""
    parsed: asyncio.Queue[float] = asyncio.Queue()
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "bench.sqlite3")
        feed = await feed_store.add_feed(db, "https://example.org/feed", "en", "Pushed")
        await websub_store.record_request(db, feed.id, "https://hub.example/",
                                          "https://example.org/feed", "s3cret", "tok", 0)

        async def ingest(feed_id: int, body: bytes, content_type: str | None) -> None:
            parse_entries(body, content_type, "en", datetime.now(UTC))
            parsed.put_nowait(time.perf_counter())

        runner = await start_receiver(receiver_app(db, ingest, 10_000_000), "127.0.0.1:0")
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/websub/tok"
        delays = []
        async with httpx.AsyncClient() as client:
            for n in range(pushes):
                feed_doc = feeds[n % len(feeds)]
                body, _etag = feed_doc.document(DAY * 2)
                signature = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
                started = time.perf_counter()
                response = await client.post(url, content=body, headers={
                    "Content-Type": "application/rss+xml",
                    "X-Hub-Signature": f"sha256={signature}"})
                assert response.status_code == 202, response.status_code
                delays.append(await asyncio.wait_for(parsed.get(), 30) - started)
        await runner.cleanup()
        await db.close()
    return delays


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"polling_delay: the feed corpus is not at {CORPUS}", file=sys.stderr)
        raise SystemExit(2)
    feeds = load_day(args.hours)
    day_entries = sum(len(f.day) for f in feeds)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {len(feeds)} corpus feeds, {day_entries} entries "
          f"published in {args.hours:g} h")
    runner, base = await serve(feeds)
    try:
        rows = []
        for mode in ("fixed", "adaptive", "quarter", "backstop"):
            started = time.perf_counter()
            result = await simulate(feeds, base, mode, args.hours * 3600)
            rows.append((mode, result, time.perf_counter() - started))
        pushes = await push_delays(feeds, 200)
    finally:
        await runner.cleanup()
    print(f"{'polling':<28} {'requests':>9} {'parsed':>7} {'entries':>8} "
          f"{'median delay':>13} {'p90 delay':>10}")
    labels = {"fixed": "fixed 5 min (baseline)",
              "adaptive": "adaptive (1 min .. 2 h)",
              "quarter": "what-if: gap / 4",
              "backstop": "pushed + backstop poll 2 h"}
    for mode, result, _took in rows:
        if mode == "backstop":
            median, p90 = statistics.median(pushes), _p(pushes, 0.9)
        else:
            median, p90 = statistics.median(result.delays), _p(result.delays, 0.9)
        print(f"{labels[mode]:<28} {result.requests:>9} {result.parsed:>7} "
              f"{len(result.delays) if mode != 'backstop' else day_entries:>8} "
              f"{median:>12.1f}s {p90:>9.1f}s")
    fixed, adaptive, quarter = rows[0][1], rows[1][1], rows[2][1]
    print(f"adaptive vs fixed: requests x{adaptive.requests / fixed.requests:.2f}, "
          f"median delay x{statistics.median(adaptive.delays) / statistics.median(fixed.delays):.2f}"
          f"; gap/4: requests x{quarter.requests / fixed.requests:.2f}, median delay "
          f"x{statistics.median(quarter.delays) / statistics.median(fixed.delays):.2f}"
          f"; pushes (real time through the receiver, {len(pushes)}): median "
          f"{statistics.median(pushes) * 1000:.1f} ms, p90 {_p(pushes, 0.9) * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
