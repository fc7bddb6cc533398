"""The language rules of matching: how any text (entry or query) becomes normalised
words and Snowball stems, per language. The one place that decides what a "word" is."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

import Stemmer

from bot.markup import html_to_text
from bot.model import LANGUAGES

_STEMMER_NAMES = {"en": "english", "fr": "french", "ru": "russian"}

# A word is a run of letters and digits; everything else (hyphens, apostrophes of
# every shape, dashes, quotes, punctuation, underscores) separates words. The
# pattern is fixed: no user text is ever compiled into a regex.
_WORD = re.compile(r"[^\W_]+")

# Letters whose accent-free spelling is not what Unicode decomposition gives.
_LATIN_SPECIAL = {"œ": "oe", "æ": "ae", "ß": "ss", "þ": "th", "ð": "d"}
# Letters with a stroke, a bar or no dot have no decomposition either; Unicode's
# Latin-ASCII transliteration writes them as their base letter (ø đ ħ ı ł → o d h i l),
# with whatever accent they also carry (ǿ → o).
_STROKED = re.compile(r"LATIN SMALL LETTER (?:DOTLESS |BARRED )?([A-Z])"
                      r"(?:$| BAR$| WITH (?:.* )?(?:STROKE|BAR)\b)")
# Invisible characters that sit inside words (soft hyphen, joiners, BOM) are
# dropped so "Ukrai\xadne" stays one word; a zero-width space is a real boundary.
_ZERO_WIDTH_SPACE = "\u200b"
# Apostrophes separate words whatever their shape. ' ’ ‘ are punctuation, so
# they already do; the modifier letter apostrophe (lʼUkraine, Ukrainian
# мʼясо) is a letter to Unicode and is made a separator here.
_LETTER_APOSTROPHES = frozenset("\u02bc")


def _fold_char(char: str) -> str:
    """Fold one NFKC-normalised, case-folded character for matching."""
    code = ord(char)
    if 0x0400 <= code <= 0x052F:
        # Cyrillic keeps its diacritic letters (й, ї, ў are different letters);
        # only ё is written as е so often that both spellings must match.
        return "е" if char == "ё" else char
    if char in _LATIN_SPECIAL:
        return _LATIN_SPECIAL[char]
    stroked = _STROKED.match(unicodedata.name(char, ""))
    if stroked:
        return stroked.group(1).lower()
    if char == _ZERO_WIDTH_SPACE or char in _LETTER_APOSTROPHES:
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
    """Feed text without the HTML tags and entities left in it (bot.markup's one reading)."""
    return html_to_text(text, fold=False)


def _check_language(language: str) -> None:
    if language not in _STEMMER_NAMES:
        raise ValueError(
            f"unsupported language {language!r}; expected one of {', '.join(LANGUAGES)}"
        )


def tokenize(text: str, language: str) -> list[str]:
    """The normalised (unstemmed) words of plain text, in order.

    The text is taken as it reads: feed text arrives here already plain (the feed
    parser removed its tags and decoded its entities, once), and a query is never
    HTML, so `<div>` and `&amp;` are words like any other."""
    _check_language(language)
    return _WORD.findall(normalise(text))


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


# The most frequent function words, normalised. Matching never ignores them (a
# phrase like "l ukraine" needs its "l"); the index only avoids filing a query
# under one of them, since nearly every entry contains it.
def _word_list(text: str) -> frozenset[str]:
    return frozenset(text.split())


COMMON_WORDS: dict[str, frozenset[str]] = {
    "en": _word_list(
        "a an and or of to in on at for with by from as is are was were be been being it its this that these "
        "those he she they we you i his her their our not no but if than then so do does did has have had will "
        "would can could should may might about after before over under into out up down more most new says "
        "said also just all any some who what when where which why how one two s t"
    ),
    "fr": _word_list(
        "le la les l un une des de du d et ou a au aux en dans sur sous par pour avec sans ce cet cette ces il "
        "elle ils elles on nous vous je se sa son ses leur leurs qui que qu quoi dont est sont etait ete etre "
        "avoir ont fait faire plus moins pas ne n y s c tout tous toute toutes comme mais donc car si apres "
        "avant entre selon depuis contre vers chez deux"
    ),
    "ru": _word_list(
        "и в во на с со к ко по за из от до о об для не ни но а или что как это так же ли бы у при про через "
        "над под без его ее их он она они мы вы я то все всех был была были быть будет есть уже еще только "
        "также после более года год"
    ),
}

# Separates title from summary in EntryTokens.sequence, so a phrase cannot run
# from the end of the title into the summary. Never a stem: words are non-empty.
FIELD_BREAK = ""


# Up to this many stems, a phrase is looked for by scanning, which allocates
# nothing; beyond, by a set of the text's adjacent pairs, built once.
_SCANNED_LENGTH = 400


@dataclass(frozen=True, slots=True)
class EntryTokens:
    """An entry analysed once for its language; every matcher reads this."""

    language: str
    words: frozenset[str]  # distinct normalised words, for prefix terms
    stems: frozenset[str]  # distinct stems, for word terms and candidate lookup
    sequence: tuple[str, ...]  # stems in order, FIELD_BREAK between title and summary
    # Memos for word_starts, has_prefix and has_phrase: a long summary has
    # thousands of words, and many terms may be asked about one entry.
    _starts: dict[int, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    _pairs: list[frozenset[tuple[str, str]]] = field(
        default_factory=list, compare=False, repr=False
    )
    _joined_words: list[str] = field(default_factory=list, compare=False, repr=False)

    def word_starts(self, length: int) -> frozenset[str]:
        """The first `length` characters of every word (whole words when shorter)."""
        starts = self._starts.get(length)
        if starts is None:
            starts = frozenset(map(itemgetter(slice(length)), self.words))
            self._starts[length] = starts
        return starts

    def has_prefix(self, prefix: str) -> bool:
        """Whether some word starts with prefix."""
        # Prefix terms come in many lengths. All the words joined, each after a
        # newline (never part of a word), answer every length with one substring
        # search, where a set of word starts would be built per length.
        if not self._joined_words:
            self._joined_words.append("\n" + "\n".join(self.words))
        return "\n" + prefix in self._joined_words[0]

    def has_phrase(self, phrase: tuple[str, ...], pivot: int = 0) -> bool:
        """Whether the stems of `phrase` (two or more) occur in this order within
        one field. `pivot` names the phrase's rarest-looking stem, where a scan of
        a longer phrase starts."""
        if len(self.sequence) > _SCANNED_LENGTH:
            if not self._pairs:
                # A long text's adjacent pairs, built once: a two-word phrase (most
                # are) is then one set lookup, however long the entry. FIELD_BREAK
                # is never a stem, so no pair spans title and summary.
                self._pairs.append(frozenset(zip(self.sequence, self.sequence[1:])))
            pairs = self._pairs[0]
            if len(phrase) == 2:
                return phrase in pairs
            if not all(pair in pairs for pair in zip(phrase, phrase[1:])):
                return False
        sequence, anchor, length = self.sequence, phrase[pivot], len(phrase)
        if length == 2:
            # Most phrases: the other word is one neighbour of the pivot, compared
            # in place instead of through a slice.
            other, step = phrase[1 - pivot], 1 - 2 * pivot
            end, found = len(sequence), -1
            try:
                while True:
                    found = sequence.index(anchor, found + 1)
                    neighbour = found + step
                    if 0 <= neighbour < end and sequence[neighbour] == other:
                        return True
            except ValueError:
                return False
        found = pivot - 1
        try:
            while True:
                found = sequence.index(anchor, found + 1)
                start = found - pivot
                if start >= 0 and sequence[start : start + length] == phrase:
                    return True
        except ValueError:
            return False


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
