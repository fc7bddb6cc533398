"""The parse pool: supervised worker processes that never hang the poller."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime

import pytest
from fakes.parsers import KILLS_ITS_WORKER, NEVER_ENDS, grow, parse_or_misbehave

from bot.feeds.parse import ParseError, parse_entries
from bot.feeds.parse_pool import ParseOverran, ParsePool, WorkerDied

NOW = datetime(2024, 11, 25, 12, tzinfo=UTC)


def tiny_feed(n: int) -> bytes:
    return (f"<rss version='2.0'><channel><title>t</title><item><title>Item {n}</title>"
            f"<link>https://example.org/{n}</link></item></channel></rss>").encode()


@pytest.fixture
async def pool():
    running = ParsePool(2, deadline=10.0)
    yield running
    running.close()


async def test_a_thousand_bodies_submitted_at_once_all_parse(pool):
    results = await asyncio.wait_for(asyncio.gather(*(
        pool.run(parse_entries, tiny_feed(n), "application/rss+xml", "en", NOW)
        for n in range(1000))), 120)
    assert [entries[0].title for entries in results] == [f"Item {n}" for n in range(1000)]
    assert pool.processes_started == 2  # nothing replaced: nothing died or grew


async def test_ten_thousand_parses_at_concurrency_200_all_complete(pool):
    slots = asyncio.Semaphore(200)
    done = 0

    async def one(n: int) -> None:
        nonlocal done
        async with slots:
            [entry] = await pool.run(parse_entries, tiny_feed(n), None, "en", NOW)
        assert entry.link == f"https://example.org/{n}"
        done += 1

    await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(10_000))), 300)
    assert done == 10_000


async def test_a_parse_that_never_ends_is_killed_at_its_deadline_and_the_others_go_on():
    pool = ParsePool(2, deadline=1.5)
    try:
        hung = asyncio.ensure_future(pool.run(parse_or_misbehave, tiny_feed(0) + NEVER_ENDS,
                                              None, "en", NOW))
        others = await asyncio.wait_for(asyncio.gather(*(
            pool.run(parse_or_misbehave, tiny_feed(n), None, "en", NOW) for n in range(1, 50))),
            60)
        assert len(others) == 49
        with pytest.raises(ParseOverran, match=r"parse took over 1.5s; its worker was stopped"):
            await asyncio.wait_for(hung, 30)
        # The slot's worker was replaced: the pool still has two to parse with.
        again = await asyncio.wait_for(asyncio.gather(*(
            pool.run(parse_entries, tiny_feed(n), None, "en", NOW) for n in range(4))), 60)
        assert len(again) == 4 and pool.processes_started == 3
    finally:
        pool.close()


async def test_a_worker_that_dies_mid_parse_fails_that_parse_and_is_replaced(pool):
    with pytest.raises(WorkerDied, match=r"parse worker died \(signal 9\)"):
        await pool.run(parse_or_misbehave, tiny_feed(0) + KILLS_ITS_WORKER, None, "en", NOW)
    results = await asyncio.gather(*(pool.run(parse_entries, tiny_feed(n), None, "en", NOW)
                                     for n in range(10)))
    assert len(results) == 10


async def test_a_worker_killed_while_idle_is_replaced_without_failing_a_parse(pool):
    await asyncio.gather(*(pool.run(parse_entries, tiny_feed(n), None, "en", NOW)
                           for n in range(4)))
    for pid in pool.pids():
        os.kill(pid, signal.SIGKILL)
    results = await asyncio.gather(*(pool.run(parse_entries, tiny_feed(n), None, "en", NOW)
                                     for n in range(4)))
    assert [r[0].title for r in results] == [f"Item {n}" for n in range(4)]
    assert pool.processes_started == 4


async def test_a_worker_past_its_memory_bound_is_replaced_after_its_parse():
    pool = ParsePool(1, memory_bound_mb=100.0)
    try:
        first = await pool.run(grow, 1)
        assert await pool.run(grow, 1) == first  # small: the same process
        assert await pool.run(grow, 150) == first  # answered, then replaced
        assert await pool.run(grow, 1) != first
        assert pool.processes_started == 2
    finally:
        pool.close()


async def test_a_parse_error_is_the_feeds_one_line_answer_and_the_worker_stays(pool):
    with pytest.raises(ParseError, match="not a feed"):
        await pool.run(parse_entries, b"<html><body>hello</body></html>", "text/html", "en", NOW)
    assert len(await pool.run(parse_entries, tiny_feed(1), None, "en", NOW)) == 1
    assert pool.processes_started == 2
