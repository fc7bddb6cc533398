"""Translation of matched entries and topic queries into subscribers' languages.

`service.Translator` is what the rest of the app uses; providers, their thread
pool, cache and breaker are its parts.
"""

from bot.translation.service import Translation, TranslationUnavailable, Translator

__all__ = ["Translation", "TranslationUnavailable", "Translator"]
