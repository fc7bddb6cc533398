"""A title in the reader's language for lists (/recent, /story, digests): translated when
a translator is there and manages, else as the feed wrote it."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class EntryTranslator(Protocol):
    async def translate_entry(self, title: str, summary: str, source: str,
                              target: str) -> object: ...


async def title_in(translator: EntryTranslator | None, title: str, source: str,
                   target: str) -> str:
    """`title` (in `source`) in `target`; the original when it cannot be translated now."""
    if translator is None or source == target or not title:
        return title
    try:
        translation = await translator.translate_entry(title, "", source, target)
    except Exception:  # the translator promises not to raise; the original will do
        log.warning("translating a title failed", exc_info=True)
        return title
    if getattr(translation, "translated", False):
        return getattr(translation, "title", "") or title
    return title
