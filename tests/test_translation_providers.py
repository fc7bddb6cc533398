"""Providers' batching and length rules, the breaker and backoff: plain inputs and outputs."""

from __future__ import annotations

from bot.config import TranslationConfig
from bot.translation.breaker import CircuitBreaker, retry_delay
from bot.translation.providers import (
    GoogleProvider,
    MyMemoryProvider,
    Provider,
    ProviderError,
    cut_at_sentence,
    language_problems,
    make_provider,
    provider_error,
)
from tests.fakes.google_translate import FakeGoogleTranslate


class EchoProvider(Provider):
    """Records requests; `merge` imitates a service that drops blank lines."""

    name = "echo"
    max_chars = 60

    def __init__(self, merge: bool = False) -> None:
        super().__init__()
        self.sent: list[str] = []
        self.merge = merge

    def _request(self, text: str, source: str, target: str) -> str:
        self.sent.append(text)
        out = "\n\n".join(f"<{p}>" for p in text.split("\n\n"))
        return " ".join(out.split()) if self.merge else out


def test_texts_of_a_batch_travel_in_one_request():
    provider = EchoProvider()
    assert provider.translate_batch(["Title", "Summary.\nSecond line."], "en", "fr") == [
        "<Title>", "<Summary. Second line.>"]
    assert provider.sent == ["Title\n\nSummary. Second line."]


def test_a_batch_over_the_length_limit_is_split_into_requests():
    provider = EchoProvider()
    texts = ["a" * 30, "b" * 30, "c" * 20]
    assert provider.translate_batch(texts, "en", "fr") == [f"<{t}>" for t in texts]
    assert provider.sent == ["a" * 30, "b" * 30 + "\n\n" + "c" * 20]


def test_merged_paragraphs_fall_back_to_one_request_per_text():
    provider = EchoProvider(merge=True)
    assert provider.translate_batch(["Title", "Summary"], "en", "fr") == ["<Title>", "<Summary>"]
    assert provider.sent == ["Title\n\nSummary", "Title", "Summary"]


def test_empty_texts_and_same_language_send_nothing():
    provider = EchoProvider()
    assert provider.translate_batch(["", "Summary"], "en", "en") == ["", "Summary"]
    assert provider.translate_batch(["", ""], "en", "fr") == ["", ""]
    assert provider.sent == []


def test_cut_at_sentence_keeps_whole_sentences():
    text = "First sentence here. Second one is longer. Third."
    assert cut_at_sentence(text, 100) == text
    assert cut_at_sentence(text, 45) == "First sentence here. Second one is longer."
    assert cut_at_sentence("no sentence end in this long text", 20) == "no sentence end in…"
    assert len(cut_at_sentence("x" * 50, 20)) == 20


def test_provider_limits_follow_the_clients():
    assert MyMemoryProvider.max_chars < 500 and GoogleProvider.max_chars < 5000
    assert MyMemoryProvider.codes["fr"] == "fr-FR"


def test_every_provider_accepts_the_bot_languages():
    for name in ("google", "libre", "mymemory", "deepl", "none"):
        config = TranslationConfig(provider=name, api_key="key")
        assert language_problems(make_provider(config)) == []


def test_google_is_reached_through_its_real_client_at_a_local_url():
    with FakeGoogleTranslate() as fake:
        provider = GoogleProvider(base_url=fake.url)
        assert provider.translate_batch(["Troops", "Summary."], "en", "ru") == [
            "войска", "[ru] Summary."]
        assert len(fake.queries) == 1
        assert (fake.queries[0]["sl"], fake.queries[0]["tl"]) == ("en", "ru")

        fake.merge_paragraphs = True
        assert provider.translate_batch(["Troops", "Summary."], "en", "fr") == [
            "troupes", "[fr] Summary."]
        assert len(fake.queries) == 4  # the merged reply, then one request per text


def test_deep_translator_errors_become_one_line_provider_errors():
    from deep_translator.exceptions import AuthorizationException, ServerException, TooManyRequests

    assert provider_error("libre", ServerException(503)).retryable
    assert provider_error("libre", TooManyRequests()).retryable
    assert not provider_error("libre", ServerException(400)).retryable
    auth = provider_error("libre", AuthorizationException("k"))
    assert auth.kind == "auth" and "\n" not in str(auth)
    assert isinstance(auth, ProviderError)


def test_breaker_opens_after_threshold_and_lets_one_trial_through_after_cooldown():
    breaker = CircuitBreaker(threshold=3, cooldown=10)
    for _ in range(3):
        assert breaker.allow(0)
        breaker.record_failure(0)
    assert breaker.state(5) == "open" and not breaker.allow(5)
    assert breaker.allow(10) and not breaker.allow(10)  # one trial only
    breaker.record_failure(10)
    assert not breaker.allow(15)
    assert breaker.allow(20)
    breaker.record_success(20)
    assert breaker.state(20) == "closed" and breaker.allow(20)


def test_fatal_failure_opens_the_breaker_at_once():
    breaker = CircuitBreaker(threshold=5, cooldown=10)
    breaker.record_failure(0, fatal=True)
    assert not breaker.allow(1)


def test_backoff_grows_and_is_capped():
    assert retry_delay(0, 0.0) == 0.1
    assert retry_delay(1, 0.999) < 0.4
    assert retry_delay(10, 0.999) < 2.0
