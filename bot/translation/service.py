"""The translator the app uses: each text translated once, shared, retried, never blocking.

Provider failures never reach callers of `translate_entry`: they get the
original text with a short note within about twice the configured timeout (a
turn for a translation thread, then the call). Waiting for a thread is not a
provider failure: only what the provider does counts toward the breaker.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import TranslationConfig
from bot.store.db import Database
from bot.translation.breaker import CircuitBreaker, retry_delay
from bot.translation.cache import TranslationCache, text_hash
from bot.translation.pool import ProviderPool
from bot.translation.providers import (
    SEPARATOR,
    NoProvider,
    Provider,
    ProviderError,
    cut_at_sentence,
    make_provider,
    one_paragraph,
)

log = logging.getLogger(__name__)

UNAVAILABLE_NOTE = "translation unavailable"
# An alert shows a title and a short summary; translating more would cost
# characters nobody reads.
TITLE_CHARS = 300
SUMMARY_CHARS = 600
MAX_ATTEMPTS = 3
# Slack over the budget for the cache lookups around a provider call.
GRACE = 0.5
_NOT_A_TERM = re.compile(r"[^\w\s'’-]+")


@dataclass(frozen=True)
class Translation:
    """An entry's title and summary in the target language, or the originals and why."""

    title: str
    summary: str
    translated: bool
    note: str | None  # set when translation was wanted but failed


class TranslationUnavailable(Exception):
    """A query could not be translated now; the message is one line for the admin."""


class Translator:
    def __init__(self, provider: Provider, pool: ProviderPool, cache: TranslationCache,
                 timeout: float, breaker: CircuitBreaker,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.provider = provider
        self.pool = pool
        self.cache = cache
        self.timeout = timeout
        self.breaker = breaker
        self.clock = clock
        self.rng = rng or random.Random()
        self.last_error: str | None = None
        self.failures = 0
        self.shared = 0
        self._in_flight: dict[tuple, asyncio.Task[list[str]]] = {}

    @classmethod
    async def create(cls, config: TranslationConfig, db: Database, *, workers: int = 4,
                     breaker: CircuitBreaker | None = None,
                     clock: Callable[[], float] = time.monotonic,
                     rng: random.Random | None = None) -> Translator:
        provider = make_provider(config)
        return cls(provider, ProviderPool(provider, workers), TranslationCache(db, provider.name),
                   config.timeout, breaker or CircuitBreaker(), clock, rng)

    @property
    def budget(self) -> float:
        """Seconds one translation may take at most: up to `timeout` waiting for a
        free thread (a burst of entries queues), then `timeout` for the calls."""
        return 2 * self.timeout

    async def translate_entry(self, title: str, summary: str, source: str,
                              target: str) -> Translation:
        """Title and summary in `target`; on any provider failure the originals with a note."""
        if source == target or isinstance(self.provider, NoProvider):
            return Translation(title, summary, translated=False, note=None)
        texts = self._prepare_entry(title, summary)
        try:
            done = await asyncio.wait_for(self._translate(texts, source, target),
                                          self.budget + GRACE)
        except ProviderError as exc:
            log.info("entry left in %s: %s", source, exc)
            return Translation(title, summary, translated=False, note=UNAVAILABLE_NOTE)
        except TimeoutError:
            log.warning("entry left in %s: translation took over %gs", source, self.budget)
            return Translation(title, summary, translated=False, note=UNAVAILABLE_NOTE)
        except Exception:
            log.exception("entry left in %s: unexpected translation failure", source)
            return Translation(title, summary, translated=False, note=UNAVAILABLE_NOTE)
        return Translation(done[0] or title, done[1] or summary, translated=True, note=None)

    async def translate_query(self, query_text: str, source: str, target: str) -> str:
        """The query with its terms and phrases translated, operators and structure kept.

        QueryError for a malformed query; TranslationUnavailable when the
        provider cannot be used now (the admin then writes the query by hand).
        """
        from bot.matching.query import format_query, map_terms, parse_query

        query = parse_query(query_text, source)
        if source == target:
            return format_query(query)
        if isinstance(self.provider, NoProvider):
            raise TranslationUnavailable("translation is off (provider none): "
                                         f"write the {target} query with /setquery")
        terms: list[str] = []
        map_terms(query, lambda term: terms.append(term) or term)
        terms = list(dict.fromkeys(one_paragraph(t) for t in terms if t.strip()))
        try:
            translated = await asyncio.wait_for(self._translate(terms, source, target),
                                                self.budget + GRACE)
        except (TimeoutError, ProviderError) as exc:
            reason = str(exc) or "no answer in time"
            raise TranslationUnavailable(f"could not translate the query: {reason}") from None
        words = {term: _as_term(new) or term for term, new in zip(terms, translated)}
        translated_query = map_terms(query, lambda term: words.get(one_paragraph(term), term),
                                     language=target)
        return format_query(translated_query)

    def count_reuse(self, title: str, summary: str) -> None:
        """A translation already made for another chat was used again: for a reader that
        is a cache hit like any other, so /stats counts it as one."""
        self.cache.count(hits=len({text for text in (title, summary) if text}))

    async def stats(self) -> dict:
        """Totals across restarts (hits, misses, calls, characters) and the current state."""
        self._count_usage()
        totals = await self.cache.counters()
        hits = totals["translation_cache_hits"]
        misses = totals["translation_cache_misses"]
        return {
            "provider": self.provider.name,
            "hits": hits,
            "misses": misses,
            "hit_rate": hits / (hits + misses) if hits + misses else 0.0,
            "provider_calls": totals["translation_provider_calls"],
            "characters_sent": totals["translation_characters_sent"],
            "shared": self.shared,
            "failures": self.failures,
            "breaker": self.breaker.state(self.clock()),
            "in_flight": self.pool.in_flight,
            "last_error": self.last_error,
        }

    async def close(self) -> None:
        for task in list(self._in_flight.values()):
            task.cancel()
        self._count_usage()
        try:
            await self.cache.flush()
        except Exception:
            log.exception("could not save translation counters")
        self.pool.close()

    def _prepare_entry(self, title: str, summary: str) -> list[str]:
        limit = self.provider.max_chars
        title = cut_at_sentence(one_paragraph(title), min(TITLE_CHARS, limit // 2))
        budget = min(SUMMARY_CHARS, limit - len(title) - len(SEPARATOR))
        return [title, cut_at_sentence(one_paragraph(summary), budget)]

    async def _translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """`texts` translated: from memory, from a lookup or call already in flight, or anew."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(t for t in texts if t))
        missing = self._from_memory(wanted, source, target, found)
        if not missing:
            self.cache.count(hits=len(wanted))
            return [found.get(t, t) for t in texts]
        key = (source, target, tuple(text_hash(t) for t in missing))
        task = self._in_flight.get(key)
        leader = task is None
        if task is None:
            # Registered before any await: a burst of callers for one entry
            # shares one SQLite lookup and at most one provider call.
            task = asyncio.ensure_future(self._resolve(missing, source, target))
            self._in_flight[key] = task
            task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        try:
            # shield: one impatient caller must not cancel the work others share.
            translated, sent = await asyncio.shield(task)
        except BaseException:
            self.cache.count(hits=len(wanted) - len(missing), misses=len(missing))
            raise
        found.update(zip(missing, translated))
        if leader:
            self.cache.count(hits=len(wanted) - sent, misses=sent)
        else:
            self.shared += 1
            self.cache.count(hits=len(wanted))
        return [found.get(t, t) for t in texts]

    async def _resolve(self, texts: list[str], source: str,
                       target: str) -> tuple[list[str], int]:
        """Translations from SQLite, the rest from the provider; and how many were sent."""
        found: dict[str, str] = {}
        for text in texts:
            hit = await self.cache.get(source, target, text)
            if hit is not None:
                found[text] = hit
        unknown = [t for t in texts if t not in found]
        if unknown:
            found.update(zip(unknown, await self._call_provider(unknown, source, target)))
        return [found[t] for t in texts], len(unknown)

    async def _call_provider(self, texts: list[str], source: str, target: str) -> list[str]:
        """One provider request (retried on 429/5xx) within the budget; cached on success."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.budget
        attempt = 0
        while True:
            if self.breaker.state(self.clock()) == "open":
                raise self._paused()
            remaining = end - loop.time()
            # The call keeps its whole timeout; what the budget has beyond that is
            # how long this request may wait for a thread.
            call_timeout = min(self.timeout, remaining)
            try:
                translated = await self.pool.translate_batch(
                    texts, source, target, call_timeout, wait=remaining - call_timeout,
                    before_call=self._allow_call)
            except ProviderError as exc:
                if exc.kind in ("busy", "open"):
                    raise  # no thread in time, or paused: nothing the provider did
                self._count_usage()
                self._record_failure(exc)
                attempt += 1
                delay = retry_delay(attempt - 1, self.rng.random())
                if (not exc.retryable or attempt >= MAX_ATTEMPTS
                        or loop.time() + delay >= end):
                    raise
                await asyncio.sleep(delay)
                continue
            self._count_usage()
            self.breaker.record_success(self.clock())
            pairs = dict(zip(texts, translated))
            self.cache.put_in_memory(source, target, pairs)
            try:
                await self.cache.store(source, target, pairs, time.time())
            except Exception:
                log.exception("could not store %d translations in the cache", len(pairs))
            return translated

    def _allow_call(self) -> None:
        """Asked once a thread is free: the breaker may have opened while this call
        waited for it, or allow only one trial call."""
        if not self.breaker.allow(self.clock()):
            raise self._paused()

    def _paused(self) -> ProviderError:
        return ProviderError("open", f"{self.provider.name} paused after repeated "
                             f"failures ({self.last_error})")

    def _record_failure(self, exc: ProviderError) -> None:
        self.failures += 1
        self.last_error = str(exc)
        was_open = self.breaker.opened_at is not None
        self.breaker.record_failure(self.clock(), fatal=exc.kind == "auth")
        if exc.kind == "auth":
            log.error("translation: %s", exc)
        else:
            log.warning("translation: %s", exc)
        if self.breaker.opened_at is not None and not was_open:
            log.warning("translation paused for %gs after %d failures: alerts go out untranslated",
                        self.breaker.cooldown, self.breaker.failures)

    def _from_memory(self, texts: list[str], source: str, target: str,
                     found: dict[str, str]) -> list[str]:
        missing = []
        for text in texts:
            hit = self.cache.remembered(source, target, text)
            if hit is None:
                missing.append(text)
            else:
                found[text] = hit
        return missing

    def _count_usage(self) -> None:
        calls, characters = self.provider.take_usage()
        self.cache.count(calls=calls, characters=characters)


def _as_term(translation: str) -> str:
    """A translated term as query text: lower case (so it never reads as AND/OR/NOT), no syntax."""
    return " ".join(_NOT_A_TERM.sub(" ", translation).lower().split())
