"""Updates handled concurrently, each chat's in the order they came: one user's slow
command (a translation, a chart) or a flood of them holds back that chat only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 256


def _chat_of(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerChatOrder(BaseUpdateProcessor):
    """Runs updates of different chats side by side and those of one chat one after
    another (a "/subscribe x" is never overtaken by the "/mysubs" sent after it)."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}  # chat -> lock, updates holding it

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = _chat_of(update)
        if chat is None:
            await coroutine
            return
        lock, users = self._locks.get(chat, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[chat] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[chat]
            if users == 1:
                del self._locks[chat]  # forgotten once idle: memory follows active chats
            else:
                self._locks[chat] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
