"""The database failing after a send: a message Telegram accepted is never sent again, no row
stays 'sending', the database's own error is what is logged, and delivery resumes by itself."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time

import pytest

from bot.store import outbox
from tests.fakes.alert_world import add_subscriber
from tests.fakes.bot_api import FakeBotAPI, Limits
from tests.test_alerts_deliver import _deliverer, _match, budget_bot

CHATS = list(range(1, 31)) + [-1, -2]


@pytest.fixture
def api():
    with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def db(tmp_path):
    from tests.fakes.alert_world import add_topic_named, open_db

    db = await open_db(tmp_path)
    await add_topic_named(db, "troops", "Western troops in Ukraine")
    for chat in CHATS:
        await add_subscriber(db, chat, ["troops"])
    yield db
    await db.close()


async def fan_out(db, api, caplog, fault, heal, logged: str, alerts: int = 3) -> None:
    """Deliver `alerts` alerts to every chat with `fault` applied once sending began and
    `heal` a little later: each chat gets each alert once, every row ends 'sent', and the
    log shows the database's own error (`logged`)."""
    for n in range(alerts):
        await _match(db, n)
    async with budget_bot(api) as bot:
        deliverer = _deliverer(db, bot)
        stop = asyncio.Event()
        caplog.set_level(logging.INFO)
        task = asyncio.create_task(deliverer.run(stop))
        assert await asyncio.to_thread(api.wait_for, lambda a: len(a.messages) >= 5, 30.0)
        await fault()
        await heal()
        deadline = time.monotonic() + 40
        while await outbox.queue_length(db) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a repeat would show now
        stop.set()
        await asyncio.wait_for(task, 20)
    states = await db.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    assert dict((r[0], r[1]) for r in states) == {"sent": alerts * len(CHATS)}
    assert {c: len(api.sent_to(c)) for c in CHATS} == {c: alerts for c in CHATS}
    assert logged in caplog.text
    assert "cannot rollback" not in caplog.text


async def test_a_failing_mark_sent_never_sends_the_alert_again(db, api, caplog):
    async def fault():
        await db.execute(
            "CREATE TRIGGER refuse_sent BEFORE UPDATE OF state ON outbox "
            "WHEN NEW.state = 'sent' BEGIN SELECT RAISE(ABORT, 'injected write failure'); END")

    async def heal():
        await asyncio.sleep(0.5)
        await db.execute("DROP TRIGGER refuse_sent")

    await fan_out(db, api, caplog, fault, heal, "injected write failure")


async def test_a_full_disk_during_a_fan_out_repeats_and_strands_nothing(db, api, caplog):
    # A real SQLITE_FULL: every outbox write also needs a page the file may not grow to.
    async def fault():
        await db.execute("CREATE TABLE ballast (b BLOB)")
        await db.execute("CREATE TRIGGER fill AFTER UPDATE ON outbox "
                         "BEGIN INSERT INTO ballast VALUES (zeroblob(16384)); END")
        pages = (await db.fetchone("PRAGMA page_count"))[0]
        await db.execute(f"PRAGMA max_page_count = {pages + 2}")

    async def heal():
        await asyncio.sleep(1.0)
        await db.execute("PRAGMA max_page_count = 1073741823")
        await db.execute("DROP TRIGGER fill")

    await fan_out(db, api, caplog, fault, heal, "database or disk is full")


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


async def test_the_database_locked_for_ten_seconds_by_another_process(db, api, caplog):
    api.limits = Limits(enabled=True, scale=0.05)
    holder = None

    async def fault():
        nonlocal holder
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, db.path, "10"],
                                  stdout=subprocess.PIPE, text=True)
        assert await asyncio.to_thread(holder.stdout.readline) == "locked\n"

    async def heal():
        await asyncio.to_thread(holder.wait, 60)

    await fan_out(db, api, caplog, fault, heal, "database is locked", alerts=4)
    assert api.count_429 == 0


async def test_transaction_reports_the_original_error_not_the_failed_rollback(db):
    await db.execute("CREATE TABLE ballast (b BLOB)")
    pages = (await db.fetchone("PRAGMA page_count"))[0]
    await db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(Exception, match="database or disk is full"):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO ballast VALUES (zeroblob(1000000))")
    await db.execute("PRAGMA max_page_count = 1073741823")
    async with db.transaction() as conn:  # and the connection is usable again
        await conn.execute("INSERT INTO ballast VALUES (x'00')")
