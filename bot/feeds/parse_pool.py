"""Where feedparser runs: a few worker processes the service supervises itself.

Parsing is CPU-bound and would hold the GIL, so it runs in processes; they are
not a ProcessPoolExecutor's: with `max_tasks_per_child` its workers can exit
without being replaced (CPython gh-115634) and every queued parse hangs, and it
has no way to end one busy worker. Here each worker is driven over its own pipe
by one thread, one parse at a time; a worker that dies, outgrows its memory
bound or overruns a parse's deadline is killed and replaced, and that parse
fails with a one-line ParseError, which the poller records as the feed's failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from bot.feeds.parse import ParseError

log = logging.getLogger(__name__)

PARSE_DEADLINE = 30.0  # the corpus's largest feed (10 MB) parses in ~3 s on a loaded core
WAIT_LIMIT = 600.0  # longest a parse waits for a free worker before its feed is failed
START_DEADLINE = 60.0  # a spawned worker importing feedparser on a very busy machine
MEMORY_BOUND_MB = 160.0  # a worker that stays above this after a parse is replaced
TRIM_ABOVE_MB = 70.0  # above this, a worker hands freed heap back to the system
_GRACE = 5.0  # the loop's own deadline beyond the driver thread's, should that thread stall

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


class ParseOverran(ParseError):
    """A parse passed its deadline; its worker was killed."""


class WorkerDied(ParseError):
    """The worker died during the parse (a crash, the OOM killer, a signal)."""


class PoolBusy(ParseError):
    """No worker became free within the wait limit."""


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_MB
    except OSError:
        return 0.0


def _trim_heap() -> None:
    """glibc keeps freed memory in its arenas; parsing a large feed leaves tens of MB."""
    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


def _watch_parent(parent_pid: int) -> None:
    """A worker blocks reading its pipe; if the service is killed, it leaves too."""
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(0)


def _serve(conn: Connection, parent_pid: int) -> None:
    """A worker: run each (fn, args) received, answer (status, value, rss MB), forever.

    Signals are the service's to handle: a Ctrl-C reaching the whole process group
    must not print a traceback here under the service's graceful stop.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watch",
                     daemon=True).start()
    import bot.feeds.parse  # noqa: F401  (imports paid before "ready", not by the first parse)

    conn.send(("ready", None, _rss_mb()))
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[str, Any] = ("ok", fn(*args))
        except Exception as exc:
            answer = ("error", exc)
        rss = _rss_mb()
        if rss > TRIM_ABOVE_MB:
            _trim_heap()
            rss = _rss_mb()
        try:
            conn.send((*answer, rss))
        except Exception as exc:  # an unpicklable result or exception: said in one line
            conn.send(("error", ParseError(f"parser failed: {type(exc).__name__}"), rss))


class _Worker:
    """One process and the pipe to it; used by one driver thread at a time."""

    def __init__(self, number: int, context, memory_bound_mb: float) -> None:
        self.number = number
        self.context = context
        self.memory_bound_mb = memory_bound_mb
        self.process = None
        self.conn: Connection | None = None
        self.started = 0  # processes started for this slot (1 + replacements)

    def _start(self) -> None:
        parent, child = self.context.Pipe(duplex=True)
        process = self.context.Process(target=_serve, args=(child, os.getpid()),
                                       name=f"feed-parse-{self.number}", daemon=True)
        # A new process inherits this thread's signal mask: blocked until _serve
        # ignores them, a Ctrl-C while it imports cannot interrupt it with a traceback.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child.close()
        self.process, self.conn = process, parent
        self.started += 1
        if not parent.poll(START_DEADLINE):
            self.kill()
            raise WorkerDied(f"parse worker did not start within {START_DEADLINE:g}s")
        try:
            parent.recv()
        except (EOFError, OSError):
            self.kill()
            raise WorkerDied("parse worker died while starting") from None

    def kill(self) -> None:
        """End the process at once (it only computes) and forget it; safe from any thread."""
        process, conn = self.process, self.conn
        self.process = self.conn = None
        if process is not None:
            with contextlib.suppress(Exception):
                process.kill()
            with contextlib.suppress(Exception):
                process.join(5.0)
            with contextlib.suppress(Exception):
                process.close()
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def stop(self) -> None:
        """Kill the process from another thread; the driver thread, reading its pipe,
        sees the end and cleans up (closing the pipe under it could reuse its fd)."""
        process = self.process
        if process is not None:
            with contextlib.suppress(Exception):
                process.kill()

    def _exit_reason(self) -> str:
        process = self.process
        with contextlib.suppress(Exception):
            process.join(1.0)
            code = process.exitcode
            if code is not None and code < 0:
                return f"signal {-code}"
            return f"exit code {code}"
        return "unknown cause"

    def call(self, fn: Callable, args: tuple, deadline: float) -> Any:
        """Run fn(*args) in the process within `deadline` seconds (blocking: a driver thread)."""
        if self.process is None or not self.process.is_alive():
            self.kill()
            self._start()
        conn = self.conn
        try:
            conn.send((fn, args))
        except (BrokenPipeError, ConnectionResetError, OSError):
            # It died while idle: the parse never started, so it gets a fresh worker.
            self.kill()
            self._start()
            conn = self.conn
            conn.send((fn, args))
        try:
            ready = conn.poll(deadline)
        except OSError:
            ready = True  # closed under us (pool closing): reading says how
        if not ready:
            self.kill()
            raise ParseOverran(f"parse took over {deadline:g}s; its worker was stopped")
        try:
            status, value, rss = conn.recv()
        except (EOFError, OSError):
            reason = self._exit_reason()
            self.kill()
            raise WorkerDied(f"parse worker died ({reason})") from None
        if rss > self.memory_bound_mb:
            log.info("parse worker %d holds %.0f MB (bound %.0f MB); replacing it",
                     self.number, rss, self.memory_bound_mb)
            self.kill()  # the next call starts a fresh one
        if status == "error":
            raise value
        return value


class ParsePool:
    """`await pool.run(fn, *args)`: fn(*args) in a worker process, under a deadline.

    At most `workers` parses run at once; the others wait (at most `wait_limit`)
    for a free worker, first come first served.
    """

    def __init__(self, workers: int = 2, *, deadline: float = PARSE_DEADLINE,
                 wait_limit: float = WAIT_LIMIT,
                 memory_bound_mb: float = MEMORY_BOUND_MB) -> None:
        # Spawned, not forked: the service has threads (SQLite, httpx) a fork would copy mid-use.
        context = multiprocessing.get_context("spawn")
        self.deadline = deadline
        self.wait_limit = wait_limit
        self._workers = [_Worker(n, context, memory_bound_mb) for n in range(workers)]
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parse-driver")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def processes_started(self) -> int:
        """Worker processes started so far (each slot's first, plus replacements)."""
        return sum(worker.started for worker in self._workers)

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process is not None]

    def _queue(self) -> asyncio.Queue[_Worker]:
        """The idle workers, as a queue of the running loop (a pool may outlive a loop:
        a benchmark warms it up in one, then polls in another)."""
        loop = asyncio.get_running_loop()
        if self._idle is None or self._loop is not loop:
            self._idle, self._loop = asyncio.Queue(), loop
            for worker in self._workers:
                self._idle.put_nowait(worker)
        return self._idle

    async def run(self, fn: Callable, *args: Any, deadline: float | None = None) -> Any:
        """fn(*args) in a worker: its result or its exception; ParseError subclasses when
        the worker overran `deadline` (default: the pool's), died, or none was free in time."""
        if self._closed:
            raise ParseError("the parse pool is closed")
        deadline = self.deadline if deadline is None else deadline
        idle = self._queue()
        try:
            async with asyncio.timeout(self.wait_limit):
                worker = await idle.get()
        except TimeoutError:
            raise PoolBusy(f"no parse worker free within {self.wait_limit:g}s") from None
        loop = asyncio.get_running_loop()
        try:
            done = self._threads.submit(worker.call, fn, args, deadline)
        except RuntimeError:  # closed meanwhile
            idle.put_nowait(worker)
            raise ParseError("the parse pool is closed") from None
        # The worker is free again when its driver thread is done with it, not before,
        # whatever happens to this coroutine meanwhile.
        done.add_done_callback(lambda _: loop.call_soon_threadsafe(idle.put_nowait, worker))
        answer = asyncio.wrap_future(done)
        answer.add_done_callback(_consume)
        try:
            async with asyncio.timeout(deadline + _GRACE):
                return await asyncio.shield(answer)
        except TimeoutError:
            worker.stop()  # the driver thread stalled; ending the process frees it
            raise ParseOverran(f"parse took over {deadline:g}s; its worker was stopped") from None
        except asyncio.CancelledError:
            if not answer.done():
                worker.stop()  # nobody waits for this parse any more: free the worker now
            raise

    def close(self) -> None:
        """Stop every worker at once (a parse in progress is abandoned); never waits on one."""
        self._closed = True
        for worker in self._workers:
            worker.stop()
        self._threads.shutdown(wait=False, cancel_futures=True)
        for worker in self._workers:
            process = worker.process
            if process is not None:
                with contextlib.suppress(Exception):
                    process.join(1.0)  # killed: reaped in milliseconds


def _consume(future: asyncio.Future) -> None:
    """An answer nobody awaited any more (its caller timed out) is not an unhandled error."""
    if not future.cancelled():
        future.exception()
