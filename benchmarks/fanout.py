"""Fan-out: one alert to many subscribed chats through the fake Bot API enforcing Telegram's limits.

The subscribers mix private chats, groups and channels, and users type
commands while the fan-out runs: the replies come from the real bot
Application, whose rate limiter is the same Telegram budget as the alerts'.
Prints messages per second (alerts and replies) as a fraction of Telegram's
30/s, 429s received, lost and repeated alerts, commands answered, and the latency from a new item appearing in a feed to its first
alert (through the real poller, matcher, LibreTranslate client, outbox and
deliverer), next to the targets. The fake Bot API runs in its own process so
it does not share the service's event loop.

    python benchmarks/fanout.py --chats 10000
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import telegram.ext
from telegram.request import HTTPXRequest

from bot.alerts.deliver import Deliverer, TelegramSender
from bot.config import BotConfig, Config, FeedConfig, PollingConfig, TranslationConfig
from bot.feeds.poll import FeedPoller
from bot.model import Topic
from bot.stages.match import MatchStage
from bot.store import outbox
from bot.store.feeds import sync_config_feeds
from bot.store.topics import add_topic
from bot.telegram.application import BotContext, build_application, start_polling, stop_polling
from bot.telegram.rate_limiter import BudgetRateLimiter
from bot.translation.service import Translator
from tests.fakes.alert_world import add_subscribers, open_db
from tests.fakes.bot_api import TOKEN
from tests.fakes.feeds import FeedServer
from tests.fakes.libretranslate import FakeLibreTranslate

TELEGRAM_RATE = 30.0
GROUP_SHARE, CHANNEL_SHARE = 0.15, 0.05  # of the subscribers; the rest are private chats
COMMANDERS = 10  # subscribed private chats whose users type commands during the fan-out
STRANGERS = 5  # users with no subscription who do the same
COMMANDS_EACH = 3


def subscribers(chats: int) -> tuple[list[int], list[int], list[int]]:
    """Private chat ids, group ids and channel ids (negative, as Telegram's)."""
    groups = int(chats * GROUP_SHARE)
    channels = int(chats * CHANNEL_SHARE)
    private = list(range(1, chats - groups - channels + 1))
    return (private, [-1_000_000_000_000 - n for n in range(1, groups + 1)],
            [-1_002_000_000_000 - n for n in range(1, channels + 1)])


class TimedSender(TelegramSender):
    """Notes when the first alert went out."""

    first_at: float | None = None

    async def send(self, chat_id, thread_id, html, **kwargs):
        message_id = await super().send(chat_id, thread_id, html, **kwargs)
        if self.first_at is None:
            self.first_at = time.monotonic()
        return message_id


def start_fake() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/fakes/bot_api.py"), "--real-limits"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    return proc, int(line[1])


def type_command(port: int, chat_id: int, text: str) -> None:
    body = json.dumps({"chat_id": chat_id, "text": text}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/_fake/inject", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):
        pass


def fake_state(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_fake/state", timeout=10) as r:
        return json.load(r)


RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>Le Monde</title><link>https://www.lemonde.fr/</link>{items}</channel></rss>"""
ITEM = ("<item><title>{title}</title><link>{link}</link><description>{summary}</description>"
        "<pubDate>{date}</pubDate></item>")


def feed_body(*items: tuple[str, str, str]) -> bytes:
    date = email.utils.formatdate(usegmt=True)
    return RSS.format(items="".join(ITEM.format(title=t, link=link, summary=s, date=date)
                                    for t, link, s in items)).encode()


async def run(chats: int, folder: Path, port: int, interval: float) -> dict:
    """The real pipeline: a feed on 127.0.0.1 gains an item; poller, matcher, LibreTranslate
    through deep-translator, outbox and deliverer carry it to every subscribed chat, while
    the bot Application answers commands typed meanwhile."""
    db = await open_db(folder, "fanout.sqlite3")
    await add_topic(db, Topic("troops", "Western troops in Ukraine",
                              {"fr": "(troupes OR soldats) AND ukraine"}))
    private, groups, channels = subscribers(chats)
    await add_subscribers(db, private + groups + channels, "troops", language="ru")
    await db.execute("UPDATE chats SET type = 'channel' WHERE id IN (SELECT value FROM "
                     "json_each(?))", (json.dumps(channels),))
    old = ("Météo : il pleut sur Paris", "https://www.lemonde.fr/meteo", "Encore.")
    new = ("Des troupes européennes en Ukraine ?", "https://www.lemonde.fr/troupes",
           "Paris envisage d'envoyer des soldats. " * 20)
    base = f"http://127.0.0.1:{port}/bot"
    with FeedServer() as feeds, FakeLibreTranslate() as libre:
        url = feeds.add("/rss.xml", feed_body(old))
        polling = PollingConfig(interval=interval, timeout=5.0, allow_private_addresses=True)
        await sync_config_feeds(db, [FeedConfig(url=url, language="fr", name="Le Monde")])
        translator = await Translator.create(
            TranslationConfig(provider="libre", base_url=libre.url, api_key="k", timeout=5.0), db)
        budget = BudgetRateLimiter()  # one Telegram budget, as in `coverage-bot run`
        config = Config(bot=BotConfig(token=TOKEN, api_base_url=base))
        application = build_application(config, BotContext(db=db, config=config,
                                                            translator=translator), budget)
        await start_polling(application, poll_timeout=1.0)
        bot = telegram.ext.ExtBot(TOKEN, base_url=base,
                                  request=HTTPXRequest(connection_pool_size=64),
                                  rate_limiter=budget)
        async with bot:
            sender = TimedSender(bot)
            deliverer = Deliverer(db, sender, translator.translate_entry)
            matched_at: list[float] = []

            class Stored(asyncio.Event):
                """The poller's wake-up to the match stage, noting when entries were stored."""

                def set(self) -> None:
                    matched_at.append(time.monotonic())
                    super().set()

            pending = Stored()
            stage = await MatchStage.load(db, pending=pending, queued=deliverer.notify)
            stop = asyncio.Event()
            async with FeedPoller(db, polling, pending=pending) as poller:
                tasks = [asyncio.create_task(deliverer.run(stop)),
                         asyncio.create_task(stage.run(stop)),
                         asyncio.create_task(poller.run(stop))]
                while feeds.hits("/rss.xml") < 2:  # the baseline poll, then an idle one
                    await asyncio.sleep(0.05)
                published = time.monotonic()
                feeds.change("/rss.xml", body=feed_body(new, old))
                commanders = private[:COMMANDERS] + [10**9 + n for n in range(STRANGERS)]
                typed = await type_commands(port, commanders, deliverer, db)
                while not matched_at or await outbox.queue_length(db):
                    await asyncio.sleep(0.5)
                await asyncio.sleep(3.0)  # the last replies
                stop.set()
                await asyncio.gather(*tasks)
            calls = libre.calls
        await stop_polling(application)
        await translator.close()
    await db.close()
    first = sender.first_at or published
    return {"latency": first - published, "fetched_to_first": first - matched_at[0],
            "client_429": deliverer.count_429, "translation_calls": calls,
            "commanders": commanders, "typed": typed}


async def type_commands(port: int, commanders: list[int], deliverer: Deliverer, db) -> int:
    """Commands typed while alerts go out: spread over the fan-out's first minute."""
    while deliverer.sent < 50:
        await asyncio.sleep(0.1)
    typed = 0
    for round_ in range(COMMANDS_EACH):
        for chat_id in commanders:
            text = "/mysubs" if round_ % 2 == 0 else "/help"
            await asyncio.to_thread(type_command, port, chat_id, text)
            typed += 1
            await asyncio.sleep(0.3)
        if not await outbox.queue_length(db):
            break
        await asyncio.sleep(5.0)
    return typed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=1.0,
                        help="feed poll interval in seconds (the latency's main part)")
    args = parser.parse_args()
    proc, port = start_fake()
    try:
        with tempfile.TemporaryDirectory() as folder:
            started = time.monotonic()
            result = asyncio.run(run(args.chats, Path(folder), port, args.interval))
            wall = time.monotonic() - started
        state = fake_state(port)
    finally:
        proc.terminate()
        proc.wait()
    per_chat = state["per_chat"]
    private, groups, channels = subscribers(args.chats)
    commanders = set(result["commanders"])
    replies = {chat: per_chat.get(str(chat), 0) - (1 if 0 < chat <= args.chats else 0)
               for chat in commanders}
    alerts = {chat: per_chat.get(str(chat), 0) for chat in private + groups + channels
              if chat not in commanders}
    lost = sum(1 for n in alerts.values() if n == 0)
    repeated = sum(max(0, n - 1) for n in alerts.values())
    answered = sum(replies.values())
    # The pace while alerts went out, replies included (they spend the same budget).
    alert_times = [at for chat, at in state["sends"] if chat in alerts]
    start, end = min(alert_times), max(alert_times)
    during = sum(1 for _, at in state["sends"] if start <= at <= end)
    rate = (during - 1) / (end - start) if end > start else float("nan")
    print(f"fan-out to {args.chats} chats: {len(private)} private, {len(groups)} groups, "
          f"{len(channels)} channels; {result['typed']} commands typed meanwhile "
          f"({wall:.1f} s wall)")
    print(f"{'figure':<34}{'result':>12}  target")
    print(f"{'messages/s (fraction of 30/s)':<34}{rate:>7.2f} ({rate / TELEGRAM_RATE:.3f})  >= 0.95")
    print(f"{'429s received':<34}{state['count_429']:>12}  0")
    print(f"{'lost alerts':<34}{lost:>12}  0")
    print(f"{'repeated alerts':<34}{repeated:>12}  0")
    print(f"{'commands answered':<34}{answered:>6} / {result['typed']:<4} all")
    print(f"{'new feed item -> first alert':<34}{result['latency'] * 1000:>9.0f} ms  "
          f"(poll interval {args.interval:g} s)")
    print(f"{'item fetched -> first alert':<34}{result['fetched_to_first'] * 1000:>9.0f} ms")
    print(f"{'translation calls':<34}{result['translation_calls']:>12}  1 (one language)")


if __name__ == "__main__":
    main()
