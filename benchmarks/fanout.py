"""Fan-out: one alert to many subscribed chats through the fake Bot API enforcing Telegram's limits.

Prints messages per second as a fraction of Telegram's 30/s, 429s received,
lost and repeated messages, and the latency from recording a new match to its
first alert, next to the targets. The fake runs in its own process so it does
not share the deliverer's event loop.

    python benchmarks/fanout.py --chats 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import telegram  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.alerts import outbox  # noqa: E402
from bot.alerts.deliver import Deliverer, Pacing, TelegramSender  # noqa: E402
from tests.fakes.alert_world import (add_entry, add_feed, add_subscribers,  # noqa: E402
                                     add_topic_named, open_db)
from tests.fakes.bot_api import TOKEN  # noqa: E402

TELEGRAM_RATE = 30.0


@dataclass(frozen=True)
class Translation:
    title: str
    summary: str
    translated: bool
    note: str | None = None


async def translate(title: str, summary: str, source: str, target: str) -> Translation:
    return Translation(f"[{target}] {title}", f"[{target}] {summary}", True)


class TimedSender(TelegramSender):
    """Notes when the first alert went out."""

    first_at: float | None = None

    async def send(self, chat_id, thread_id, html):
        message_id = await super().send(chat_id, thread_id, html)
        if self.first_at is None:
            self.first_at = time.monotonic()
        return message_id


def start_fake() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/fakes/bot_api.py"), "--real-limits"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    return proc, int(line[1])


def fake_state(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_fake/state", timeout=10) as r:
        return json.load(r)


async def run(chats: int, folder: Path, port: int) -> dict:
    db = await open_db(folder, "fanout.sqlite3")
    await add_topic_named(db, "troops", "Western troops in Ukraine")
    await add_subscribers(db, list(range(1, chats + 1)), "troops", language="ru")
    feed = await add_feed(db, "https://www.lemonde.fr/rss", "fr", "Le Monde")
    entry = await add_entry(db, feed, "https://www.lemonde.fr/a", "Des troupes en Ukraine",
                            "Paris envisage d'envoyer des troupes. " * 20, "fr")
    bot = telegram.Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot",
                       request=HTTPXRequest(connection_pool_size=64))
    async with bot:
        sender = TimedSender(bot)
        deliverer = Deliverer(db, sender, translate, Pacing())
        stop = asyncio.Event()
        task = asyncio.create_task(deliverer.run(stop))
        await asyncio.sleep(0.5)  # an idle service waiting for news
        recorded = time.monotonic()
        await outbox.record_matches(db, entry, "https://www.lemonde.fr/a",
                                    [("troops", ["troupes", "ukraine"])], time.time())
        deliverer.notify()
        while await outbox.queue_length(db):
            await asyncio.sleep(0.5)
        stop.set()
        await task
    await db.close()
    return {"latency": (sender.first_at or recorded) - recorded,
            "client_429": deliverer.count_429}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    args = parser.parse_args()
    proc, port = start_fake()
    try:
        with tempfile.TemporaryDirectory() as folder:
            started = time.monotonic()
            result = asyncio.run(run(args.chats, Path(folder), port))
            wall = time.monotonic() - started
        state = fake_state(port)
    finally:
        proc.terminate()
        proc.wait()
    per_chat = state["per_chat"]
    lost = sum(1 for chat in range(1, args.chats + 1) if per_chat.get(str(chat), 0) == 0)
    repeated = sum(max(0, n - 1) for n in per_chat.values())
    span = (state["last_at"] - state["first_at"]) if state["messages"] > 1 else float("nan")
    rate = (state["messages"] - 1) / span if span else float("nan")
    print(f"fan-out to {args.chats} chats ({wall:.1f} s wall)")
    print(f"{'figure':<34}{'result':>12}  target")
    print(f"{'messages/s (fraction of 30/s)':<34}{rate:>7.2f} ({rate / TELEGRAM_RATE:.3f})  >= 0.95")
    print(f"{'429s received':<34}{state['count_429']:>12}  < 10")
    print(f"{'lost messages':<34}{lost:>12}  0")
    print(f"{'repeated messages':<34}{repeated:>12}  0")
    print(f"{'match -> first alert latency':<34}{result['latency'] * 1000:>9.0f} ms  (no target)")


if __name__ == "__main__":
    main()
