"""Provider calls off the event loop, in a fixed number of threads, each within a timeout."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.translation.providers import Provider, ProviderError
from bot.translation.request_timeout import install_request_timeout, thread_timeout


class ProviderPool:
    """Runs provider calls in `workers` threads; a call gets `timeout` seconds, then fails.

    When every thread is taken, a call waits its turn (first come, first served)
    for at most `wait` seconds: a burst of entries is a queue, not a failure. A
    thread is handed on only when it really returns, so a hung provider holds at
    most `workers` threads and the calls behind it give up at their wait.
    """

    def __init__(self, provider: Provider, workers: int = 4) -> None:
        install_request_timeout()
        self.provider = provider
        self.workers = workers
        self._slots = asyncio.Semaphore(workers)
        self._busy = 0
        self._waiting = 0
        self._busy_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix="translation")

    @property
    def in_flight(self) -> int:
        """Provider calls whose thread has not returned yet (timed-out ones included)."""
        return self._busy

    @property
    def waiting(self) -> int:
        """Calls waiting for a free thread."""
        return self._waiting

    async def translate_batch(self, texts: list[str], source: str, target: str,
                              timeout: float, wait: float = 0.0,
                              before_call: Callable[[], None] | None = None) -> list[str]:
        """The provider's translations of `texts`.

        ProviderError "busy" when no thread came free within `wait` seconds (not
        the provider's fault); "transient" when the provider did not answer in
        `timeout` seconds once it was called. `before_call` runs once a thread is
        ours and may raise to give it back unused (a breaker opened meanwhile).
        """
        if timeout <= 0:
            raise ProviderError("busy", f"{self.provider.name}: no time left to call")
        await self._take_thread(wait)
        loop = asyncio.get_running_loop()
        if before_call is not None:
            try:
                before_call()
            except BaseException:
                self._slots.release()
                raise
        with self._busy_lock:
            self._busy += 1
        try:
            future = self._executor.submit(self._run, texts, source, target, timeout)
        except RuntimeError:
            self._free(loop)
            raise ProviderError("busy",
                                f"{self.provider.name}: translation is shutting down") from None
        # Fires in the worker thread when it returns, or when the call is
        # cancelled before it starts: only then is the thread anyone else's.
        future.add_done_callback(lambda _done: self._free(loop))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            raise ProviderError("transient", f"{self.provider.name} did not answer within "
                                f"{timeout:.3g}s") from None

    async def _take_thread(self, wait: float) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # free now: returns without suspending
            return
        if wait <= 0:
            raise ProviderError("busy", f"{self.provider.name}: all {self.workers} "
                                "translation threads are busy")
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), wait)
        except TimeoutError:
            raise ProviderError("busy", f"{self.provider.name}: all {self.workers} translation "
                                f"threads stayed busy for {wait:.3g}s") from None
        finally:
            self._waiting -= 1

    def _run(self, texts: list[str], source: str, target: str, timeout: float) -> list[str]:
        with thread_timeout(timeout):
            return self.provider.translate_batch(texts, source, target)

    def _free(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._busy_lock:
            self._busy = max(self._busy - 1, 0)
        try:
            loop.call_soon_threadsafe(self._slots.release)
        except RuntimeError:
            pass  # the loop is closed: nobody is left to wait for the thread

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
