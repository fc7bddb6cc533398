"""Hanging feeds beside healthy ones: are the healthy ones still polled on time?

500 feeds on 127.0.0.1 accept the connection and never answer (a separate
process holds them open); 5 healthy feeds answer at once. Every feed is due
every 2 s, `polling.timeout` is 5 s, `polling.concurrency` 16: a round of the
hanging feeds alone takes 500 x 5 s / 16 = 156 s. The healthy feeds have been
polled once before the hanging ones are added, as in a running service.

Three runs of the real `FeedPoller.run`, same duration, same machine:
  baseline   the healthy feeds alone
  hanging    the same beside the 500 hanging feeds
  shared     the same, with the slots shared by every feed (the previous policy)
Each prints, per healthy feed, its polls and the gaps between them as the feed
server saw them (the target: about the 2 s interval, as in the baseline).

    .venv/bin/python benchmarks/hanging_feeds.py [--seconds 35] [--hanging 500]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the feed server lives with the test fakes

from fakes.feeds import Route, _Handler, _Server, fixture

from bot.config import FeedConfig, PollingConfig, StorageConfig
from bot.feeds.poll import FeedPoller
from bot.store import feeds as feed_store
from bot.store.db import Database

INTERVAL = 2.0
HEALTHY = 5
POLLING = PollingConfig(interval=INTERVAL, timeout=5.0, max_bytes=2_000_000, concurrency=16,
                        allow_private_addresses=True)


def _hold_connections(ready) -> None:
    """A server whose every connection is accepted, read and never answered."""
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(65536):
                pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(hold, "127.0.0.1", 0, backlog=1024)
        ready.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_hanging_server() -> tuple[str, multiprocessing.Process]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_hold_connections, args=(child,), daemon=True)
    process.start()
    return f"http://127.0.0.1:{parent.recv()}", process


class _TimedHandler(_Handler):
    def do_GET(self) -> None:
        self.server.times.append((self.path, time.monotonic()))
        super().do_GET()


def start_healthy_server() -> tuple[_Server, list[str]]:
    server = _Server({})
    server.RequestHandlerClass = _TimedHandler
    server.times = []
    body = fixture("en-bbc.atom.xml")

    paths = [f"/healthy/{n}.xml" for n in range(HEALTHY)]
    for path in paths:
        server.routes[path] = Route(body=body)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, paths


async def run(mode: str, seconds: float, hanging: int, hanging_url: str) -> dict:
    server, paths = start_healthy_server()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    healthy = [FeedConfig(url=base + path, language="en") for path in paths]
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.sqlite3")
        await feed_store.sync_config_feeds(db, healthy)
        async with FeedPoller(db, POLLING, StorageConfig()) as poller:
            await poller.poll_once()  # proven feeds, as in a service that has been running
            if mode != "baseline":
                await feed_store.sync_config_feeds(db, healthy + [
                    FeedConfig(url=f"{hanging_url}/hang/{n}.xml", language="en")
                    for n in range(hanging)])
            if mode == "shared":
                poller._doubtful_slots = asyncio.Semaphore(POLLING.concurrency)
            server.times.clear()
            stop = asyncio.Event()
            started = time.monotonic()
            task = asyncio.create_task(poller.run(stop))
            await asyncio.sleep(seconds)
            stop.set()
            await asyncio.wait_for(task, 30)
        failed = (await db.fetchone(
            "SELECT COUNT(*) FROM feeds WHERE consecutive_failures > 0"))[0]
        await db.close()
    server.shutdown()
    server.server_close()
    per_feed = {}
    for path in paths:
        times = [started] + [t for p, t in server.times if p == path]
        gaps = [b - a for a, b in zip(times, times[1:])]
        per_feed[path] = gaps
    return {"per_feed": per_feed, "failed": failed}


def describe(mode: str, result: dict, seconds: float) -> None:
    gaps = [g for feed in result["per_feed"].values() for g in feed]
    polls = [len(feed) for feed in result["per_feed"].values()]
    expected = seconds / INTERVAL
    if not gaps:
        print(f"{mode:9} polls per healthy feed 0 (expected ~{expected:.0f}); never polled")
        return
    firsts = [feed[0] for feed in result["per_feed"].values() if feed]
    print(f"{mode:9} polls per healthy feed {min(polls)}-{max(polls)} (expected ~{expected:.0f})"
          f"   gap median {statistics.median(gaps):5.2f} s   max {max(gaps):6.2f} s"
          f"   first poll after start max {max(firsts):5.2f} s"
          f"   feeds failing at the end {result['failed']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=35.0)
    parser.add_argument("--hanging", type=int, default=500)
    args = parser.parse_args()
    hanging_url, holder = start_hanging_server()
    print(f"{HEALTHY} healthy feeds, {args.hanging} hanging feeds, every feed due every "
          f"{INTERVAL:g} s, timeout {POLLING.timeout:g} s, concurrency {POLLING.concurrency}, "
          f"{args.seconds:g} s per run")
    try:
        for mode in ("baseline", "hanging", "shared"):
            result = asyncio.run(run(mode, args.seconds, args.hanging, hanging_url))
            describe(mode, result, args.seconds)
    finally:
        holder.terminate()
    print("target: 'hanging' like 'baseline' (each healthy feed about every "
          f"{INTERVAL:g} s); 'shared' shows the previous policy on the same feeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
