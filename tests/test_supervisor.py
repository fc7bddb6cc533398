"""A loop that dies is logged under its own name and started again with backoff; one that
cannot run stops the service with one line."""

from __future__ import annotations

import asyncio

import pytest

from bot.alerts.deliver import Deliverer, DeliveryPolicy, TelegramSender
from bot.store import outbox
from bot.supervisor import LoopCannotRun, run_supervised, supervise
from tests.fakes.alert_world import add_subscriber, add_topic_named, open_db
from tests.fakes.bot_api import FakeBotAPI
from tests.test_alerts_deliver import _match, budget_bot, translate


async def test_a_loop_that_dies_is_logged_by_name_and_started_again(caplog):
    runs = []

    async def flaky(stop):
        runs.append(asyncio.get_running_loop().time())
        if len(runs) < 3:
            raise RuntimeError(f"boom {len(runs)}")
        await stop.wait()

    stop = asyncio.Event()
    task = asyncio.create_task(supervise("feed poller", flaky, stop, base=0.05))
    while len(runs) < 3:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 30)
    # Backoff doubles: a restart never comes before its delay (however late a busy
    # machine lets it come).
    assert runs[1] - runs[0] >= 0.05 * 0.95 and runs[2] - runs[1] >= 0.1 * 0.95
    assert "feed poller died: RuntimeError('boom 1')" in caplog.text
    assert "feed poller died: RuntimeError('boom 2')" in caplog.text


async def test_a_loop_that_can_never_run_stops_the_others_and_says_why():
    stopped = []

    async def broken(stop):
        raise OSError("no such device")

    async def healthy(stop):
        await stop.wait()
        stopped.append("healthy")

    stop = asyncio.Event()
    with pytest.raises(LoopCannotRun, match="the deliverer cannot run: OSError"):
        await asyncio.wait_for(run_supervised({"deliverer": broken, "poller": healthy}, stop,
                                              base=0.01), 30)
    assert stopped == ["healthy"] and stop.is_set()


async def test_a_killed_deliverer_is_started_again_and_delivers(tmp_path, caplog):
    db = await open_db(tmp_path)
    await add_topic_named(db, "troops")
    await add_subscriber(db, 1, ["troops"])
    with FakeBotAPI() as api:
        async with budget_bot(api) as bot:
            deliverer = Deliverer(db, TelegramSender(bot), translate,
                                  DeliveryPolicy().scaled(0.05))
            stop = asyncio.Event()
            supervisor = asyncio.create_task(
                run_supervised({"deliverer": deliverer.run}, stop))
            await asyncio.sleep(0.1)
            [task] = [t for t in asyncio.all_tasks() if t.get_name() == "deliverer"]
            task.cancel()
            await asyncio.sleep(1.2)  # the first restart waits a second
            await _match(db)
            deliverer.notify()
            assert await asyncio.to_thread(api.wait_for, lambda a: a.sent_to(1), 30.0)
            stop.set()
            await asyncio.wait_for(supervisor, 30)
    assert "deliverer was cancelled; starting it again" in caplog.text
    assert await outbox.queue_length(db) == 0
    await db.close()
