"""Fan-out of a growing story: three entries of one story (fr, en, ru) reach many chats
through the fake Bot API enforcing Telegram's limits, the later ones while the first is
still being delivered.

`grow` (the default mode): one message per chat, edited as the story grows, one
"now in …" reply per new language. Baseline, same entries and chats in the same
run: `each`, every entry its own message. Prints Bot API calls (edits count),
calls per second against Telegram's 30/s, 429s, and chats that lost or got
twice anything they should have (0 and 0 are the targets).

    python benchmarks/story_fanout.py --chats 1000
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
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.alerts.deliver import DeliveryPolicy
from bot.store import outbox
from bot.store.chats import set_coverage
from bot.telegram.budget import TelegramLimits
from tests.fakes.alert_world import add_subscribers
from tests.fakes.bot_api import TOKEN
from tests.fakes.libretranslate import DICTIONARY, FakeLibreTranslate
from tests.fakes.story_world import STRIKE_EN, STRIKE_FR, STRIKE_RU, StoryWorld

TELEGRAM_RATE = 30.0
OUTLETS = ("Le Monde", "BBC (en)", "TASS (ru)")


def start_fake() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/fakes/bot_api.py"), "--real-limits"],
                            stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline().split()[1])


def fake_state(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_fake/state", timeout=30) as r:
        return json.load(r)


def teach_pivots() -> None:
    """The fake translator's English pivots for the story's French and Russian entries."""
    for (_outlet, title, summary, pivot), source in ((STRIKE_FR, "fr"), (STRIKE_RU, "ru")):
        table = DICTIONARY.setdefault((source, "en"), {})
        table[title.lower()], table[summary.lower()] = pivot


async def run(mode: str, chats: int, port: int, gap: float) -> float:
    """Deliver the growing story to `chats` chats in `mode`; seconds from first entry to
    an empty queue."""
    api = SimpleNamespace(token=TOKEN, base_url=f"http://127.0.0.1:{port}/bot")
    with tempfile.TemporaryDirectory() as folder, FakeLibreTranslate() as libre:
        world = await StoryWorld(Path(folder), api, libre.url, policy=DeliveryPolicy(),
                                 limits=TelegramLimits()).start()
        ids = list(range(1, chats + 1))
        await add_subscribers(world.db, ids, "strikes", language="en")
        for chat in ids:
            await set_coverage(world.db, chat, mode)
        stop = asyncio.Event()
        delivering = asyncio.create_task(world.deliverer.run(stop))
        started = time.monotonic()
        for item in (STRIKE_FR, STRIKE_EN, STRIKE_RU):  # later entries arrive mid-fan-out
            await world.publish(item)
            world.deliverer.notify()
            await asyncio.sleep(gap)
        while await outbox.queue_length(world.db):
            await asyncio.sleep(0.5)
        wall = time.monotonic() - started
        stop.set()
        await delivering
        await world.stop()
    return wall


def check(state: dict, mode: str, chats: int) -> tuple[int, int]:
    """(chats that lost something, chats that got something twice)."""
    lost = repeated = 0
    for chat in range(1, chats + 1):
        key = str(chat)
        sent = state["per_chat"].get(key, 0)
        replies = state["replies_per_chat"].get(key, 0)
        alerts = sent - replies
        if mode == "grow":
            shown = state["shown"].get(f"{chat}:1", "")
            lost += alerts < 1 or replies < 2 or not all(o in shown for o in OUTLETS)
            repeated += alerts > 1 or replies > 2
        else:
            lost += alerts < 3
            repeated += alerts > 3 or replies > 0
    return lost, repeated


def measure(mode: str, chats: int, gap: float) -> dict:
    proc, port = start_fake()
    try:
        wall = asyncio.run(run(mode, chats, port, gap))
        state = fake_state(port)
    finally:
        proc.terminate()
        proc.wait()
    lost, repeated = check(state, mode, chats)
    calls = state["messages"] + state["edits"]
    return {"wall": wall, "sends": state["messages"] - state["replies"],
            "edits": state["edits"], "replies": state["replies"], "calls": calls,
            "rate": calls / wall, "429": state["count_429"], "lost": lost,
            "repeated": repeated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--gap", type=float, default=5.0,
                        help="seconds between the story's entries (they land mid-fan-out)")
    args = parser.parse_args()
    teach_pivots()
    grow = measure("grow", args.chats, args.gap)
    each = measure("each", args.chats, args.gap)
    print(f"growing story (3 entries, fr en ru, {args.gap:g} s apart) to {args.chats} chats, "
          "Telegram's limits enforced by the fake Bot API")
    print(f"{'figure':<30}{'grow':>10}{'each (baseline)':>18}  target")
    rows = [("alerts sent", "sends", "{:.0f}", "grow: 1/chat"),
            ("edits", "edits", "{:.0f}", "<= 2/chat"),
            ("replies (new language)", "replies", "{:.0f}", "grow: 2/chat"),
            ("Bot API calls", "calls", "{:.0f}", ""),
            ("calls/s (Telegram ~30)", "rate", "{:.1f}", "<= 30"),
            ("429s received", "429", "{:.0f}", "< 10"),
            ("chats that lost something", "lost", "{:.0f}", "0"),
            ("chats that got a repeat", "repeated", "{:.0f}", "0"),
            ("seconds to deliver all", "wall", "{:.1f}", "")]
    for label, key, fmt, target in rows:
        print(f"{label:<30}{fmt.format(grow[key]):>10}{fmt.format(each[key]):>18}  {target}")


if __name__ == "__main__":
    main()
