"""(provider, source, target, text) -> translation, kept in SQLite across restarts.

Also keeps the translation counters (cache hits and misses, provider calls,
characters sent) that `/stats` shows; they are written in batches, not per lookup.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from bot.store.db import Database

COUNTERS = ("translation_cache_hits", "translation_cache_misses",
            "translation_provider_calls", "translation_characters_sent")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationCache:
    def __init__(self, db: Database, provider: str, memory_size: int = 4096) -> None:
        self.db = db
        self.provider = provider
        # Fan-out asks for the same few texts hundreds of times in a burst;
        # answering those from memory spares the shared connection.
        self._memory: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._memory_size = memory_size
        self._pending = dict.fromkeys(COUNTERS, 0)

    def remembered(self, source: str, target: str, text: str) -> str | None:
        """The translation if it is in memory; never waits."""
        key = (source, target, text_hash(text))
        found = self._memory.get(key)
        if found is not None:
            self._memory.move_to_end(key)
        return found

    async def get(self, source: str, target: str, text: str) -> str | None:
        found = self.remembered(source, target, text)
        if found is not None:
            return found
        row = await self.db.fetchone(
            "SELECT translation FROM translation_cache"
            " WHERE provider = ? AND source = ? AND target = ? AND text_hash = ?",
            (self.provider, source, target, text_hash(text)))
        if row is None:
            return None
        self._remember(source, target, text, row[0])
        return row[0]

    def put_in_memory(self, source: str, target: str, pairs: dict[str, str]) -> None:
        for text, translation in pairs.items():
            self._remember(source, target, text, translation)

    async def store(self, source: str, target: str, pairs: dict[str, str], now: float) -> None:
        """Persist translations and the pending counters in one transaction."""
        rows = [(self.provider, source, target, text_hash(text), translation, now)
                for text, translation in pairs.items()]
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT OR REPLACE INTO translation_cache"
                " (provider, source, target, text_hash, translation, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)", rows)
            await self._write_counters(conn)

    def count(self, hits: int = 0, misses: int = 0, calls: int = 0, characters: int = 0) -> None:
        self._pending["translation_cache_hits"] += hits
        self._pending["translation_cache_misses"] += misses
        self._pending["translation_provider_calls"] += calls
        self._pending["translation_characters_sent"] += characters

    async def flush(self) -> None:
        if any(self._pending.values()):
            async with self.db.transaction() as conn:
                await self._write_counters(conn)

    async def counters(self) -> dict[str, int]:
        """Totals across restarts, pending increments included."""
        rows = await self.db.fetchall(
            f"SELECT name, value FROM counters WHERE name IN ({', '.join('?' * len(COUNTERS))})",
            COUNTERS)
        totals = dict.fromkeys(COUNTERS, 0)
        totals.update({row[0]: row[1] for row in rows})
        return {name: totals[name] + self._pending[name] for name in COUNTERS}

    async def _write_counters(self, conn) -> None:
        deltas = [(name, value) for name, value in self._pending.items() if value]
        self._pending = dict.fromkeys(COUNTERS, 0)
        await conn.executemany(
            "INSERT INTO counters (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value", deltas)

    def _remember(self, source: str, target: str, text: str, translation: str) -> None:
        key = (source, target, text_hash(text))
        self._memory[key] = translation
        self._memory.move_to_end(key)
        while len(self._memory) > self._memory_size:
            self._memory.popitem(last=False)


async def prune_translations(db: Database, before: float) -> int:
    """Forget translations stored before `before` (the entries they were made for are
    pruned after the same retention); rows removed."""
    return await db.execute("DELETE FROM translation_cache WHERE created_at < ?", (before,))
