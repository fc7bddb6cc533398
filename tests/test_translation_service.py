"""Translation through deep-translator's real LibreTranslator against a local LibreTranslate."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.config import TranslationConfig
from bot.store.db import Database
from bot.translation import Translation, TranslationUnavailable, Translator
from bot.translation.breaker import CircuitBreaker
from tests.fakes.libretranslate import FakeLibreTranslate

TIMEOUT = 0.8

TITLE = "Western troops in Ukraine: Paris and London discuss a plan"
SUMMARY = ("Leaders met on Tuesday. They discussed a reassurance force. "
           "No decision was announced.")


@pytest.fixture
def server():
    with FakeLibreTranslate() as fake:
        yield fake


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def make_translator(server, db, *, key="secret", timeout=TIMEOUT, **options) -> Translator:
    config = TranslationConfig(provider="libre", base_url=server.url, api_key=key,
                               timeout=timeout)
    return await Translator.create(config, db, **options)


async def test_entry_is_translated_with_the_right_languages_in_one_call(server, db):
    translator = await make_translator(server, db)
    result = await translator.translate_entry(TITLE, SUMMARY, "en", "ru")
    await translator.close()

    assert result == Translation(f"[ru] {TITLE}", f"[ru] {SUMMARY}", translated=True, note=None)
    assert server.calls == 1
    request = server.requests[0]
    assert (request.source, request.target, request.api_key) == ("en", "ru", "secret")


async def test_same_language_is_not_translated_and_not_a_failure(server, db):
    translator = await make_translator(server, db)
    result = await translator.translate_entry(TITLE, SUMMARY, "fr", "fr")
    await translator.close()

    assert result == Translation(TITLE, SUMMARY, translated=False, note=None)
    assert server.calls == 0


async def test_cache_survives_a_restart(server, tmp_path):
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    translator = await make_translator(server, db)
    first = await translator.translate_entry(TITLE, SUMMARY, "en", "fr")
    await translator.close()
    await db.close()

    db = await Database.open(path)
    translator = await make_translator(server, db)
    again = await translator.translate_entry(TITLE, SUMMARY, "en", "fr")
    stats = await translator.stats()
    await translator.close()
    await db.close()

    assert again == first
    assert server.calls == 1
    assert (stats["hits"], stats["misses"]) == (2, 2)
    assert stats["hit_rate"] == 0.5
    assert stats["provider_calls"] == 1


async def test_many_subscribers_of_one_language_share_one_call(server, db):
    translator = await make_translator(server, db)
    targets = ["ru"] * 50 + ["fr"] * 30 + ["en"] * 20
    results = await asyncio.gather(
        *(translator.translate_entry(TITLE, SUMMARY, "en", target) for target in targets))
    await translator.close()

    assert server.calls == 2  # ru and fr; en needs no translation
    assert {r.title for r in results} == {f"[ru] {TITLE}", f"[fr] {TITLE}", TITLE}


async def test_only_the_text_not_yet_cached_is_sent(server, db):
    translator = await make_translator(server, db)
    await translator.translate_entry(TITLE, SUMMARY, "en", "ru")
    await translator.translate_entry(TITLE, "A different summary.", "en", "ru")
    await translator.close()

    assert [r.q for r in server.requests] == [f"{TITLE}\n\n{SUMMARY}", "A different summary."]


async def test_long_summary_is_cut_at_a_sentence_before_sending(server, db):
    translator = await make_translator(server, db)
    summary = " ".join(f"Sentence number {i} says something." for i in range(100))
    result = await translator.translate_entry(TITLE, summary, "en", "fr")
    await translator.close()

    sent = server.requests[0].q.split("\n\n")[1]
    assert len(sent) <= 600 and sent.endswith("says something.")
    assert result.summary == f"[fr] {sent}"


async def test_server_errors_are_retried(server, db):
    server.script.fail_status, server.script.fail_count = 500, 2
    translator = await make_translator(server, db, timeout=3.0)
    result = await translator.translate_entry(TITLE, SUMMARY, "en", "ru")
    await translator.close()

    assert result.translated and server.calls == 3


async def test_rate_limit_is_retried(server, db):
    server.script.fail_status, server.script.fail_count = 429, 1
    translator = await make_translator(server, db, timeout=3.0)
    result = await translator.translate_entry(TITLE, SUMMARY, "en", "ru")
    await translator.close()

    assert result.translated and server.calls == 2


async def test_persistent_errors_open_the_breaker_and_alerts_go_untranslated(server, db):
    server.script.fail_status, server.script.fail_count = 500, -1
    clock = [1000.0]
    translator = await make_translator(server, db, timeout=3.0,
                                       breaker=CircuitBreaker(threshold=5, cooldown=30),
                                       clock=lambda: clock[0])
    results = [await translator.translate_entry(f"{TITLE} {i}", SUMMARY, "en", "ru")
               for i in range(4)]
    calls_while_failing = server.calls
    state = (await translator.stats())["breaker"]

    assert all(r == Translation(r.title, SUMMARY, False, "translation unavailable")
               for r in results)
    assert results[0].title == f"{TITLE} 0"
    assert calls_while_failing == 5  # 3 attempts, 2 attempts, then the breaker opened
    assert state == "open"

    server.script.fail_count = 0  # the provider recovers; after the cooldown one trial
    clock[0] += 31
    result = await translator.translate_entry(TITLE, SUMMARY, "en", "ru")
    state = (await translator.stats())["breaker"]
    await translator.close()

    assert result.translated and state == "closed"


async def test_hanging_server_costs_the_timeout_and_bounded_threads(server, db):
    server.script.hang = True
    translator = await make_translator(server, db, timeout=0.5, workers=4)
    started = time.monotonic()
    results = await asyncio.gather(
        *(translator.translate_entry(f"Title {i}", SUMMARY, "en", "fr") for i in range(20)))
    elapsed = time.monotonic() - started
    threads = [t for t in threading.enumerate() if t.name.startswith("translation")]
    in_flight = translator.pool.in_flight

    assert all(r.note == "translation unavailable" and r.title == f"Title {i}"
               for i, r in enumerate(results))
    # The server would hang for 30 s: far under that proves each call had its timeout (how
    # close to the timeout it answers is a matter of the machine's load, not of the code).
    assert elapsed < 10 * 0.5
    assert len(threads) <= 4 and in_flight <= 4

    # requests gives up on its own, so the threads come back without the server's help.
    deadline = time.monotonic() + 20
    while translator.pool.in_flight and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert translator.pool.in_flight == 0
    await translator.close()


async def test_refused_key_is_a_clear_error_and_not_retried(server, db):
    server.script.api_key = "the-right-key"
    translator = await make_translator(server, db, key="wrong-key")
    result = await translator.translate_entry(TITLE, SUMMARY, "en", "ru")
    again = await translator.translate_entry("Another title", SUMMARY, "en", "ru")
    stats = await translator.stats()
    await translator.close()

    assert result.note == "translation unavailable" and not again.translated
    assert server.calls == 1  # a refused key opens the breaker at once
    assert stats["last_error"] == ("libre refused the API key (HTTP 403): "
                                   "check translation.api_key")


async def test_unreachable_server_gives_the_original(db):
    config = TranslationConfig(provider="libre", base_url="http://127.0.0.1:9/",
                               api_key="k", timeout=TIMEOUT)
    translator = await Translator.create(config, db)
    result = await translator.translate_entry(TITLE, SUMMARY, "en", "ru")
    await translator.close()

    assert result == Translation(TITLE, SUMMARY, False, "translation unavailable")


async def test_provider_none_passes_texts_through(db):
    translator = await Translator.create(TranslationConfig(provider="none"), db)
    result = await translator.translate_entry(TITLE, SUMMARY, "en", "ru")
    await translator.close()

    assert result == Translation(TITLE, SUMMARY, translated=False, note=None)


async def test_query_translation_keeps_operators_and_structure(server, db):
    translator = await make_translator(server, db)
    query = '(troops OR soldiers) AND ukraine -russia "peace talks" europ*'
    french = await translator.translate_query(query, "en", "fr")
    russian = await translator.translate_query(query, "en", "ru")
    await translator.close()

    assert french == ('(troupes OR soldats) AND ukraine AND NOT russie'
                      ' AND "pourparlers de paix" AND europ*')
    assert russian == ("(войска OR солдаты) AND украина AND NOT россия"
                       ' AND "мирные переговоры" AND европ*')
    assert server.calls == 2  # all terms of one query in one call per language


async def test_query_translation_unavailable_is_a_one_line_error(server, db):
    server.script.fail_status, server.script.fail_count = 500, -1
    translator = await make_translator(server, db, timeout=0.5)
    with pytest.raises(TranslationUnavailable, match="could not translate the query"):
        await translator.translate_query("troops AND ukraine", "en", "fr")
    await translator.close()


async def test_cached_translations_are_pruned_with_the_retention(tmp_path):
    from bot.translation.cache import TranslationCache, prune_translations

    db = await Database.open(tmp_path / "prune.sqlite3")
    cache = TranslationCache(db, "libre")
    await cache.store("fr", "en", {"ancien": "old"}, now=1_000.0)
    await cache.store("fr", "en", {"récent": "recent"}, now=90_000.0)
    assert await prune_translations(db, before=50_000.0) == 1
    fresh = TranslationCache(db, "libre")  # nothing remembered in memory
    assert await fresh.get("fr", "en", "ancien") is None
    assert await fresh.get("fr", "en", "récent") == "recent"
    await db.close()


async def test_a_burst_waits_for_free_threads_and_every_entry_is_translated(server, db):
    # A provider answering in 300 ms, 20 entries at once, 4 threads: five turns of
    # waiting, not 16 refusals counted as failures.
    server.script.delay = 0.3
    translator = await make_translator(server, db, timeout=2.5, workers=4)
    results = await asyncio.gather(
        *(translator.translate_entry(f"Title {i}", f"Summary {i}.", "en", "fr")
          for i in range(20)))
    stats = await translator.stats()
    await translator.close()

    assert [r.title for r in results] == [f"[fr] Title {i}" for i in range(20)]
    assert all(r.translated and r.note is None for r in results)
    assert server.calls == 20
    assert stats["failures"] == 0 and stats["breaker"] == "closed"


async def test_waiting_too_long_for_a_thread_is_not_a_provider_failure(server, db):
    # One thread, calls of 300 ms: most of 12 entries cannot get a turn within
    # their wait. They go out untranslated, but the provider did nothing wrong,
    # so the breaker stays closed and the next entry is translated.
    server.script.delay = 0.3
    translator = await make_translator(server, db, timeout=0.9, workers=1)
    results = await asyncio.gather(
        *(translator.translate_entry(f"Title {i}", SUMMARY, "en", "fr") for i in range(12)))
    later = await translator.translate_entry("Later title", SUMMARY, "en", "fr")
    stats = await translator.stats()
    await translator.close()

    untranslated = [r for r in results if not r.translated]
    assert untranslated and all(r.note == "translation unavailable" for r in untranslated)
    assert any(r.translated for r in results)
    assert stats["failures"] == 0 and stats["breaker"] == "closed"
    assert later.translated and later.title == "[fr] Later title"
