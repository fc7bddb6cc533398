"""The translate stage: one translation per (entry, language), shared by every chat that
needs it, however many of them are sent at once."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.message_text import SUMMARY_LENGTH, clean, shorten

log = logging.getLogger(__name__)

KEPT = 256  # translations (or translations in progress) held for the next chat


class TranslationLike(Protocol):
    title: str
    summary: str
    translated: bool
    note: str | None


Translate = Callable[[str, str, str, str], Awaitable[TranslationLike]]


class TranslateStage:
    """Translates an entry's title and summary once per target language; a failure is
    None (the alert goes out untranslated, never lost) and is tried again next time."""

    def __init__(self, translate: Translate,
                 on_reuse: Callable[[str, str], None] | None = None) -> None:
        self.translate = translate
        self.on_reuse = on_reuse  # told when one entry's translation serves another chat
        self._tasks: OrderedDict[tuple, asyncio.Task] = OrderedDict()

    async def entry(self, entry_id: int, title: str, summary: str, source: str,
                    target: str) -> TranslationLike | None:
        key = (entry_id, source, target)
        task = self._tasks.get(key)
        reused = task is not None
        if task is None:
            short = shorten(clean(summary), 2 * SUMMARY_LENGTH)
            task = asyncio.ensure_future(self.translate(title, short, source, target))
            self._tasks[key] = task
            while len(self._tasks) > KEPT:
                self._tasks.popitem(last=False)
        try:
            result = await asyncio.shield(task)
        except Exception as exc:  # the translator promises not to raise; never lose the alert
            log.warning("translating entry %s failed: %r", entry_id, exc)
            self._tasks.pop(key, None)
            return None
        if not result.translated:
            self._tasks.pop(key, None)  # try again for the next chat
        elif reused and self.on_reuse is not None:
            self.on_reuse(title, summary)
        return result
