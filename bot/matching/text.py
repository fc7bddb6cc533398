"""The language rules of matching: how any text (entry or query) becomes normalised
words and Snowball stems, per language. The one place that decides what a "word" is."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import Stemmer

LANGUAGES: tuple[str, ...] = ("en", "fr", "ru")
_STEMMER_NAMES = {"en": "english", "fr": "french", "ru": "russian"}

# A word is a run of letters and digits; everything else (hyphens, apostrophes of
# every shape, dashes, quotes, punctuation, underscores) separates words. The
# pattern is fixed: no user text is ever compiled into a regex.
_WORD = re.compile(r"[^\W_]+")
# Feeds leak markup into "plain" text; only things shaped like tags are removed so
# that a literal "a < b" in a headline keeps its words.
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]{0,500}>", re.DOTALL)

# Letters whose accent-free spelling is not what Unicode decomposition gives.
_LATIN_SPECIAL = {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ı": "i", "þ": "th"}
# Invisible characters that sit inside words (soft hyphen, joiners, BOM) are
# dropped so "Ukrai\xadne" stays one word; a zero-width space is a real boundary.
_ZERO_WIDTH_SPACE = "\u200b"


def _fold_char(char: str) -> str:
    """Fold one NFKC-normalised, case-folded character for matching."""
    code = ord(char)
    if 0x0400 <= code <= 0x052F:
        # Cyrillic keeps its diacritic letters (й, ї, ў are different letters);
        # only ё is written as е so often that both spellings must match.
        return "е" if char == "ё" else char
    if char in _LATIN_SPECIAL:
        return _LATIN_SPECIAL[char]
    if char == _ZERO_WIDTH_SPACE:
        return " "
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category == "Mn":
        # A mark that did not compose with its letter: Russian stress accents
        # ("Украи́на") and stray Latin diacritics alike are noise for matching.
        return ""
    decomposed = unicodedata.normalize("NFD", char)
    return "".join(part for part in decomposed if not unicodedata.combining(part))


class _FoldTable(dict):
    """str.translate table that computes each character's folding once, then hits
    a C-level dict lookup: folding is on the hot path of every entry."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def normalise(text: str) -> str:
    """NFKC, case-folded, Latin accents folded (é → e), ё → е, other Cyrillic kept."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)


def strip_markup(text: str) -> str:
    """Remove HTML tags and decode entities left in feed text."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def _check_language(language: str) -> None:
    if language not in _STEMMER_NAMES:
        raise ValueError(f"unsupported language {language!r}; expected one of {', '.join(LANGUAGES)}")


def tokenize(text: str, language: str) -> list[str]:
    """The normalised (unstemmed) words of text, in order."""
    _check_language(language)
    return _WORD.findall(normalise(strip_markup(text)))


_STEMMERS = {language: Stemmer.Stemmer(name) for language, name in _STEMMER_NAMES.items()}
# Stemming is the hot cost of matching and news vocabulary repeats heavily, so
# stems are memoised per language. The cache is bounded by being dropped when
# full: a stem is cheap to recompute, a leak in a long-running service is not.
_STEM_CACHES: dict[str, dict[str, str]] = {language: {} for language in _STEMMER_NAMES}
_STEM_CACHE_LIMIT = 200_000


def _stem_missing(word: str, language: str) -> str:
    cache = _STEM_CACHES[language]
    if len(cache) >= _STEM_CACHE_LIMIT:
        cache.clear()
    stem = _STEMMERS[language].stemWord(word)
    cache[word] = stem
    return stem


def stem_words(words: Iterable[str], language: str) -> list[str]:
    """Snowball stems of already-normalised words, for the language."""
    _check_language(language)
    cache = _STEM_CACHES[language]
    return [cache[word] if word in cache else _stem_missing(word, language) for word in words]


# Separates title from summary in EntryTokens.sequence, so a phrase cannot run
# from the end of the title into the summary. Never a stem: words are non-empty.
FIELD_BREAK = ""


@dataclass(frozen=True, slots=True)
class EntryTokens:
    """An entry analysed once for its language; every matcher reads this."""

    language: str
    words: frozenset[str]  # distinct normalised words, for prefix terms
    stems: frozenset[str]  # distinct stems, for word terms and candidate lookup
    sequence: tuple[str, ...]  # stems in order, FIELD_BREAK between title and summary


def tokenize_entry(title: str, summary: str, language: str) -> EntryTokens:
    """Tokenise and stem an entry's title and summary as one text of two fields."""
    title_words = tokenize(title, language)
    summary_words = tokenize(summary, language)
    title_stems = stem_words(title_words, language)
    summary_stems = stem_words(summary_words, language)
    return EntryTokens(
        language=language,
        words=frozenset(title_words).union(summary_words),
        stems=frozenset(title_stems).union(summary_stems),
        sequence=(*title_stems, FIELD_BREAK, *summary_stems),
    )
