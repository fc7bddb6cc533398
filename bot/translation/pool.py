"""Provider calls off the event loop, in a fixed number of threads, each within a timeout."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.translation.providers import Provider, ProviderError
from bot.translation.request_timeout import install_request_timeout, thread_timeout


class ProviderPool:
    """Runs provider calls in `workers` threads; a call gets `timeout` seconds, then fails.

    A thread slot is freed only when its thread really returns, so a hung
    provider can hold at most `workers` threads; further calls fail at once
    as "busy" instead of queueing.
    """

    def __init__(self, provider: Provider, workers: int = 4) -> None:
        install_request_timeout()
        self.provider = provider
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers,
                                            thread_name_prefix="translation")

    @property
    def in_flight(self) -> int:
        """Provider calls whose thread has not returned yet (timed-out ones included)."""
        return self._busy

    async def translate_batch(self, texts: list[str], source: str, target: str,
                              timeout: float) -> list[str]:
        if timeout <= 0:
            raise ProviderError("transient", f"{self.provider.name}: no time left to call")
        if not self._slots.acquire(blocking=False):
            raise ProviderError("busy", f"{self.provider.name}: all {self.workers} translation "
                                "threads wait on unanswered calls")
        with self._busy_lock:
            self._busy += 1
        try:
            future = self._executor.submit(self._run, texts, source, target, timeout)
        except RuntimeError:
            self._free(None)
            raise ProviderError("busy",
                                f"{self.provider.name}: translation is shutting down") from None
        # Fires when the thread returns, or when the call is cancelled before it starts.
        future.add_done_callback(self._free)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            raise ProviderError("transient", f"{self.provider.name} did not answer within "
                                f"{timeout:.3g}s") from None

    def _run(self, texts: list[str], source: str, target: str, timeout: float) -> list[str]:
        with thread_timeout(timeout):
            return self.provider.translate_batch(texts, source, target)

    def _free(self, _future: object) -> None:
        with self._busy_lock:
            self._busy -= 1
        self._slots.release()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
