"""deep-translator's providers behind one interface, their failures as one ProviderError.

`Provider.translate_batch` is the blocking call, one per provider; run it
through `pool.ProviderPool`, which keeps it off the event loop.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import ClassVar

import requests
from deep_translator import DeeplTranslator, GoogleTranslator, LibreTranslator, MyMemoryTranslator
from deep_translator.base import BaseTranslator
from deep_translator.exceptions import (
    AuthorizationException,
    LanguageNotSupportedException,
    NotValidLength,
    NotValidPayload,
    RequestError,
    ServerException,
    TooManyRequests,
    TranslationNotFound,
)

from bot.config import TranslationConfig
from bot.model import LANGUAGES

log = logging.getLogger(__name__)

# Texts of one batch travel as paragraphs of one request: every provider here
# keeps blank lines between paragraphs, and a reply that lost them is detected
# and retried text by text.
SEPARATOR = "\n\n"
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"[.!?…»\"”)](?=\s)|[.!?…]$")

# Self-hosted LibreTranslate usually runs without keys, but deep-translator's
# client refuses to start without one; servers with keys disabled ignore it.
_LIBRE_PLACEHOLDER_KEY = "no-key"


class ProviderError(Exception):
    """A provider call failed; `kind` says whether trying again can help.

    transient: 429, 5xx, timeout, connection refused (retry, then breaker)
    auth: the provider refused the API key (no retry: config must change)
    busy: no translation thread came free in time (the provider is not at fault)
    open: the breaker pauses calls after repeated failures
    rejected: the provider refused this text or gave no translation
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def retryable(self) -> bool:
        return self.kind == "transient"


def cut_at_sentence(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else cut at the last sentence end that fits."""
    if len(text) <= limit:
        return text
    window = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    # A sentence end very early would throw most of the budget away; a word
    # boundary with an ellipsis reads better then.
    if ends and ends[-1] >= limit // 3:
        return window[: ends[-1]].rstrip()
    space = window.rfind(" ", 0, limit - 1)
    if space >= limit // 3:
        return window[:space].rstrip() + "…"
    return window[: limit - 1] + "…"


def one_paragraph(text: str) -> str:
    """Whitespace runs (newlines included) as single spaces, so a text never holds SEPARATOR."""
    return " ".join(text.split())


class Provider:
    """One translation service; `translate_batch` blocks, so call it through ProviderPool."""

    name = "none"
    # Characters per request. The clients put the text in the URL's query
    # string, so these stay well under servers' URL limits even for Cyrillic
    # (six bytes per letter once percent-encoded) besides each service's cap.
    max_chars = 5000
    # Our language codes -> the provider's codes.
    codes: ClassVar[dict[str, str]] = {lang: lang for lang in LANGUAGES}

    def __init__(self, base_url: str = "", api_key: str = "") -> None:
        self.base_url = base_url
        self.api_key = api_key
        self._usage_lock = threading.Lock()
        self._calls = 0
        self._characters = 0

    def take_usage(self) -> tuple[int, int]:
        """Requests and characters sent since the last call (thread-safe)."""
        with self._usage_lock:
            usage = (self._calls, self._characters)
            self._calls = self._characters = 0
        return usage

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        """Each text translated, in as few requests as `max_chars` allows; ProviderError if not."""
        texts = [cut_at_sentence(one_paragraph(t), self.max_chars) for t in texts]
        out = list(texts)
        todo = [i for i, t in enumerate(texts) if t]
        if source == target or not todo:
            return out
        for chunk in self._chunks(todo, texts):
            joined = SEPARATOR.join(texts[i] for i in chunk)
            translated = self._request(joined, source, target).strip()
            parts = [translated] if len(chunk) == 1 else _PARAGRAPH_BREAK.split(translated)
            if len(parts) != len(chunk):
                log.info("%s merged %d paragraphs into %d; translating them one by one",
                         self.name, len(chunk), len(parts))
                parts = [self._request(texts[i], source, target) for i in chunk]
            for i, part in zip(chunk, parts):
                out[i] = part.strip()
        return out

    def _chunks(self, todo: list[int], texts: list[str]) -> list[list[int]]:
        chunks: list[list[int]] = []
        size = 0
        for i in todo:
            extra = len(texts[i]) + (len(SEPARATOR) if chunks and chunks[-1] else 0)
            if chunks and size + extra <= self.max_chars:
                chunks[-1].append(i)
                size += extra
            else:
                chunks.append([i])
                size = len(texts[i])
        return chunks

    def _request(self, text: str, source: str, target: str) -> str:
        with self._usage_lock:
            self._calls += 1
            self._characters += len(text)
        try:
            client = self.client(self.codes[source], self.codes[target])
            result = client.translate(text)
        except ProviderError:
            raise
        except Exception as exc:  # deep-translator raises many unrelated types
            raise provider_error(self.name, exc) from exc
        if not isinstance(result, str) or not result.strip():
            raise ProviderError("rejected", f"{self.name} returned no translation")
        return result

    def client(self, source: str, target: str) -> BaseTranslator:
        """A fresh deep-translator object: they keep per-call state, so threads never share one."""
        raise NotImplementedError


class NoProvider(Provider):
    """provider = "none": texts pass through untranslated, without any request."""

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        return list(texts)


class GoogleProvider(Provider):
    name = "google"
    max_chars = 4999  # the client refuses 5000 and more

    def client(self, source: str, target: str) -> BaseTranslator:
        client = GoogleTranslator(source=source, target=target)
        if self.base_url:  # the constructor takes no URL; the instance keeps it here
            client._base_url = self.base_url
        return client


class LibreProvider(Provider):
    name = "libre"
    max_chars = 2000  # public instances cap requests; 2000 also keeps the URL short

    def client(self, source: str, target: str) -> BaseTranslator:
        return LibreTranslator(source=source, target=target,
                               api_key=self.api_key or _LIBRE_PLACEHOLDER_KEY,
                               custom_url=_with_slash(self.base_url) or None)


class MyMemoryProvider(Provider):
    name = "mymemory"
    max_chars = 499  # the free API's limit, checked by the client as < 500
    codes: ClassVar[dict[str, str]] = {"en": "en-GB", "fr": "fr-FR", "ru": "ru-RU"}

    def client(self, source: str, target: str) -> BaseTranslator:
        client = MyMemoryTranslator(source=source, target=target)
        if self.base_url:
            client._base_url = self.base_url
        return client


class DeeplProvider(Provider):
    name = "deepl"
    max_chars = 2000  # sent in a GET query string

    def client(self, source: str, target: str) -> BaseTranslator:
        client = DeeplTranslator(source=source, target=target, api_key=self.api_key,
                                 use_free_api=self.api_key.endswith(":fx"))
        if self.base_url:
            client._base_url = _with_slash(self.base_url)
        return client


PROVIDER_CLASSES: dict[str, type[Provider]] = {
    "google": GoogleProvider, "libre": LibreProvider, "mymemory": MyMemoryProvider,
    "deepl": DeeplProvider, "none": NoProvider,
}


def make_provider(config: TranslationConfig) -> Provider:
    return PROVIDER_CLASSES[config.provider](base_url=config.base_url, api_key=config.api_key)


def language_problems(provider: Provider) -> list[str]:
    """One line per bot language the provider's client does not accept (for `check`)."""
    if isinstance(provider, NoProvider):
        return []
    problems = []
    for lang in LANGUAGES:
        other = "fr" if lang == "en" else "en"
        try:
            provider.client(provider.codes[lang], provider.codes[other])
        except LanguageNotSupportedException:
            problems.append(f"translation.provider: {provider.name} does not support {lang!r}")
        except Exception as exc:
            problems.append(f"translation.provider: {provider.name} cannot start: "
                            f"{one_paragraph(str(exc))}")
            break
    return problems


_STATUS_OF = {message: status for status, message in ServerException.errors.items()}


def provider_error(name: str, exc: Exception) -> ProviderError:
    """deep-translator's and requests' exceptions as one ProviderError with a one-line message."""
    if isinstance(exc, AuthorizationException):
        return ProviderError("auth", f"{name} refused the API key (HTTP 403): "
                             "check translation.api_key")
    if isinstance(exc, TooManyRequests):
        return ProviderError("transient", f"{name} says too many requests (HTTP 429)")
    if isinstance(exc, ServerException):
        message = str(exc.args[0]) if exc.args else "API server error"
        status = _STATUS_OF.get(message)
        if status in (401, 402):
            return ProviderError("auth", f"{name} refused the API key (HTTP {status})")
        if status is None or status == 429 or status >= 500:
            # Unknown codes arrive as "API server error": mostly 502/504 from proxies.
            return ProviderError("transient", f"{name} failed: HTTP {status or 'error'} ({message})")
        return ProviderError("rejected", f"{name} refused the request: HTTP {status} ({message})")
    if isinstance(exc, RequestError):  # google and mymemory: any non-2xx status
        return ProviderError("transient", f"{name} answered with an error status")
    if isinstance(exc, requests.Timeout):
        return ProviderError("transient", f"{name} did not answer in time")
    if isinstance(exc, (requests.ConnectionError, ConnectionError)):
        return ProviderError("transient", f"{name} unreachable: connection failed")
    if isinstance(exc, (TranslationNotFound, NotValidLength, NotValidPayload)):
        return ProviderError("rejected", f"{name} gave no translation for this text")
    if isinstance(exc, LanguageNotSupportedException):
        return ProviderError("rejected", f"{name} does not support this language pair")
    return ProviderError("transient", f"{name} failed: {type(exc).__name__}: "
                         f"{one_paragraph(str(exc))[:200]}")


def _with_slash(url: str) -> str:
    # The clients append "translate" to the base URL.
    return url if not url or url.endswith("/") else url + "/"
