"""Whether two entries, in any languages, report the same event: each entry
becomes a small signature of weighted features, and two signatures score in [0, 1].

Words are compared in one language: English through the pivot translation when
both entries have one, else the entries' own language when they share it.
Names (transliterated to a Latin consonant skeleton, so "Зеленского" meets
"Zelensky"), numbers and the link are compared whatever the languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.matching.text import (
    COMMON_WORDS,
    LANGUAGES,
    normalise,
    stem_words,
    strip_markup,
    tokenize,
)
from bot.stories.evidence import NO_EVIDENCE, Evidence, read_evidence

PIVOT = "en"
# Feature kinds, the prefix of every feature string, and what one shared
# feature of that kind weighs. A word of the title is also a title feature, so
# a word two headlines share counts twice, a headline word found in the other
# entry's summary once.
# A commonplace of news writing ("police", "killed", "government") is a weak
# word: it says what kind of news it is, not which event.
# A year ("2016") dates the news more than it names the event.
WORD, TITLE_WORD, WEAK_WORD, NAME, NUMBER, YEAR = "w", "t", "g", "n", "d", "y"
WEIGHTS = {WORD: 1.0, TITLE_WORD: 1.0, WEAK_WORD: 0.3, NAME: 1.0, NUMBER: 1.5, YEAR: 0.3}
LANGUAGE_FREE = (NAME, NUMBER, YEAR)
# Two entries must share at least this much weight to score fully: one name in
# common (a president, a country) is a topic, not an event.
MIN_SHARED = 2.5
LEXICAL = (WORD, TITLE_WORD, WEAK_WORD)
# Only the opening of a summary is read: full-text feeds carry thousands of
# words, which would drown the headline's.
BODY_WORDS = 20
# As much of a summary as is translated for the pivot (see bot/translation).
SUMMARY_CHARS = 600
SERIAL_VERSION = 1
# 0.5 is the cosine; more lets a headline-only entry match a long summary
# that contains it.
CONTAINMENT = 0.7

# News words that say nothing about which event it is, beyond the languages'
# function words.
_NEWS_WORDS = {
    "en": frozenset(
        "the say says said told tell report reports reported year years day days week time times "
        "people news video live update updates photo photos watch first last get got make made "
        "take took go going come comes back still now today yesterday tomorrow could would "
        "mr mrs ms per cent percent via amid them him me my your there here very much many "
        "other another than because while during since whether just like monday tuesday "
        "wednesday thursday friday saturday sunday january february march april june july "
        "august september october november december president minister prime".split()
    ),
    "fr": frozenset(
        "dit selon a ete aussi encore deja jour jours annee ans semaine mois fois nouveau "
        "nouvelle premier premiere dernier derniere video photos direct".split()
    ),
    "ru": frozenset(
        "заявил заявила сообщил сообщила рассказал рассказала назвал назвала стало стал стала "
        "время день дня лет году новости видео фото".split()
    ),
}
_STOP = {language: COMMON_WORDS[language] | _NEWS_WORDS[language] for language in LANGUAGES}
_WEAK_WORDS = {
    "en": frozenset(
        "us u.s uk un eu state states country countries nation national government official "
        "officials authorities police court judge law leader leaders party parties group groups "
        "man men woman women child children family city town region province area world "
        "international foreign former new old big small high low major top early late "
        "kill killed killing kills dead death deaths die dies died injured wounded attack attacks "
        "war military army forces troops security crisis case cases issue plan plans deal "
        "talk talks meet meets meeting call calls called ask asks asked want wants help helps "
        "show shows shown find finds found give gives given keep keeps left leave leaves "
        "start starts started end ends ended begin began open opens opened close closes closed "
        "hit hits set sets put puts run runs win wins won lose loses lost face faces "
        "warn warns warned claim claims claimed accuse accuses accused deny denies denied "
        "support supports back backs need needs seek seeks move moves turn turns "
        "public power money million billion percent number part way life home house "
        "head heads chief member members minister ministry spokesman spokeswoman agency "
        "source sources media statement interview question questions decision vote votes "
        "election elections campaign policy policies rule rules right rights "
        "political economic social health school work workers business market company "
        "east west north south eastern western northern southern central capital "
        "second third one two three four five six seven eight nine ten hundreds thousands "
        "least more most less several many few some all".split()
    ),
    "fr": frozenset(
        "etat pays gouvernement police justice tribunal ministre president parti ville region "
        "monde nouveau ancien mort morts tue tues blesse blesses attaque guerre armee "
        "francais france plus contre".split()
    ),
    "ru": frozenset(
        "россия россии страны страна власти власть президент министр правительство полиция суд "
        "город мир погибли погиб пострадали человек люди война армия".split()
    ),
}
_WEAK_STEMS = {
    language: frozenset(stem_words(sorted(words), language))
    for language, words in _WEAK_WORDS.items()
}

# A raw word, capitalisation kept: names are found by their capital letter.
_RAW_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
# After these, a capital letter starts a sentence (or a quotation), not a name.
_SENTENCE_ENDS = frozenset(".!?:;«\"“„—–-|")
_CYRILLIC_TO_LATIN = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "u",
    "я": "a", "і": "i", "ї": "i", "є": "e", "ґ": "g", "ў": "u",
})
# Spellings of one sound across transliterations, folded before vowels go.
_SOUNDS = (("dzh", "j"), ("zh", "j"), ("sch", "sh"), ("ch", "sh"), ("ph", "f"), ("ck", "k"),
           ("kh", "k"), ("ts", "z"), ("tz", "z"), ("x", "ks"), ("q", "k"), ("c", "k"),
           ("w", "v"))
_DROPPED = frozenset("aeiouyhj")
_SKELETON_LENGTH = 5


@dataclass(frozen=True, slots=True)
class StorySignature:
    """What similarity reads from one entry; stored with the entry's story."""

    lexical_language: str  # language of the word features: "en" when pivoted
    features: frozenset[str]  # "<kind>:<value>"
    link: str = ""
    # Derived once, by make_signature: what comparisons read.
    norm: float = 0.0  # weight of all the features
    language_free: frozenset[str] = frozenset()  # names and numbers
    language_free_norm: float = 0.0
    # The feed the entry came from, opaque ("" when unknown): what that feed
    # keeps repeating is no sign of an event (bot/stories/cluster.py).
    source: str = ""
    # What it reports happened (bot/stories/evidence.py).
    evidence: Evidence = NO_EVIDENCE

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, for storage."""
        data = {
            "v": SERIAL_VERSION,
            "lang": self.lexical_language,
            "features": sorted(self.features),
            "link": self.link,
        }
        if self.source:
            data["src"] = self.source
        if self.evidence.head:
            data["head"] = sorted(self.evidence.head)
        if self.evidence.actions:
            data["actions"] = sorted(self.evidence.actions)
        if self.evidence.roundup:
            data["roundup"] = True
        if self.evidence.recurrence:
            data["again"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StorySignature:
        if data.get("v") != SERIAL_VERSION:
            raise ValueError(f"unknown story signature version {data.get('v')!r}")
        evidence = Evidence(frozenset(data.get("head", ())), frozenset(data.get("actions", ())),
                            bool(data.get("roundup", False)), bool(data.get("again", False)))
        return make_signature(str(data["lang"]), frozenset(data["features"]), str(data["link"]),
                              str(data.get("src", "")), evidence)

    def with_source(self, source: object) -> StorySignature:
        """The same signature, marked as coming from the feed `source`."""
        return make_signature(self.lexical_language, self.features, self.link, str(source),
                              self.evidence)

    def without(self, features: frozenset[str]) -> StorySignature:
        """The signature less some of its features."""
        if not features:
            return self
        return make_signature(self.lexical_language, self.features - features, self.link,
                              self.source, self.evidence)


def make_signature(lexical_language: str, features: frozenset[str], link: str = "",
                   source: str = "", evidence: Evidence = NO_EVIDENCE) -> StorySignature:
    free = frozenset(f for f in features if f[0] in LANGUAGE_FREE)
    return StorySignature(lexical_language, features, link, _weight(features), free,
                          _weight(free), source, evidence)


def feature_weight(feature: str) -> float:
    return WEIGHTS[feature[0]]


def _weight(features: frozenset[str]) -> float:
    return sum(WEIGHTS[feature[0]] for feature in features)


def story_signature(title: str, summary: str, language: str, link: str,
                    pivot_title: str | None = None,
                    pivot_summary: str | None = None, source: object = "") -> StorySignature:
    """The signature of one entry. pivot_* are its English translation; an
    English entry is its own pivot; `source` names its feed."""
    summary = summary[:SUMMARY_CHARS]
    if language == PIVOT:
        pivot_title, pivot_summary = title, summary
    if pivot_title is not None:
        lexical_language = PIVOT
        lexical_title, lexical_summary = pivot_title, pivot_summary or ""
    elif language in LANGUAGES:
        lexical_language, lexical_title, lexical_summary = language, title, summary
    else:
        lexical_language, lexical_title, lexical_summary = "", "", ""
    features: set[str] = set()
    if lexical_language:
        weak = _WEAK_STEMS[lexical_language]
        title_words = set(_content_stems(lexical_title, lexical_language))
        body_words = set(_content_stems(lexical_summary, lexical_language)[:BODY_WORDS])
        features.update(f"{TITLE_WORD}:{word}" for word in title_words - weak)
        features.update(f"{WORD}:{word}" for word in (title_words | body_words) - weak)
        features.update(f"{WEAK_WORD}:{word}" for word in (title_words | body_words) & weak)
    for text, is_title in ((title, True), (summary, False),
                           (pivot_title or "", True), (pivot_summary or "", False)):
        features.update(f"{NAME}:{key}" for key in _name_keys(text, is_title))
        features.update(f"{YEAR if _is_year(number) else NUMBER}:{number}"
                        for number in _numbers(text))
    evidence = read_evidence(title, summary, language, pivot_title, pivot_summary)
    return make_signature(lexical_language, frozenset(features), _canonical_link(link),
                          str(source), evidence)


def similarity(a: StorySignature, b: StorySignature) -> float:
    """How likely a and b report the same event, in [0, 1]: the weight of the
    features they share over a mean of their weights leaning to the smaller."""
    if a.link and a.link == b.link:
        return 1.0
    if a.lexical_language == b.lexical_language:
        shared, norm_a, norm_b = a.features & b.features, a.norm, b.norm
    else:
        # Words in two languages never meet: compare what both sides can.
        shared = a.language_free & b.language_free
        norm_a, norm_b = a.language_free_norm, b.language_free_norm
    if not shared:
        return 0.0
    small, large = min(norm_a, norm_b), max(norm_a, norm_b)
    weight = _weight(shared)
    score = weight / (small ** CONTAINMENT * large ** (1 - CONTAINMENT))
    return min(1.0, score * min(1.0, weight / MIN_SHARED))


def _content_stems(text: str, language: str) -> list[str]:
    stop = _STOP[language]
    words = [w for w in tokenize(text, language) if w not in stop and len(w) > 1 and not w.isdigit()]
    return stem_words(words, language)


def _name_keys(text: str, is_title: bool) -> set[str]:
    """Skeletons of the capitalised words that are not the first of a
    sentence, nor common words: names of people, places, organisations."""
    text = strip_markup(text)
    found = list(_RAW_WORD.finditer(text))
    if not found:
        return set()
    # A headline In Title Case capitalises every word: only acronyms say something.
    long_words = [match.group() for match in found if len(match.group()) > 3]
    title_case = is_title and len(long_words) >= 3 and (
        sum(1 for word in long_words if word[0].isupper()) >= 0.8 * len(long_words))
    keys = set()
    for match in found:
        word = match.group()
        if not word[0].isupper():
            continue
        if title_case:
            if word.isupper() and len(word) > 1:
                keys.add(_skeleton(normalise(word)))
            continue
        before = match.start() - 1
        while before >= 0 and text[before].isspace():
            before -= 1
        if before < 0 or text[before] in _SENTENCE_ENDS:
            continue
        folded = normalise(word)
        if not any(folded in stop for stop in _STOP.values()):
            keys.add(_skeleton(folded))
    keys.discard("")
    return keys


def _skeleton(word: str) -> str:
    """Latin consonant skeleton, the same for most transliterations of a name."""
    if not word.isascii():
        # Cyrillic names decline ("Макроном"): the stem is the name.
        word = stem_words([word], "ru")[0]
    latin = word.translate(_CYRILLIC_TO_LATIN)
    if not latin.isascii() or not latin.isalpha():
        return ""
    for sound, spelling in _SOUNDS:
        latin = latin.replace(sound, spelling)
    skeleton = [latin[0]]
    for char in latin[1:]:
        if char not in _DROPPED and char != skeleton[-1]:
            skeleton.append(char)
    key = "".join(skeleton)[:_SKELETON_LENGTH]
    return key if len(key) >= 3 else ""


def _is_year(number: str) -> bool:
    return len(number) == 4 and number[:2] in ("19", "20")


def _numbers(text: str) -> set[str]:
    return {n.lstrip("0") for n in _DIGITS.findall(text) if len(n.lstrip("0")) >= 2}


def _canonical_link(link: str) -> str:
    """The link without scheme, "www." or final slash: the same page however linked.
    The query stays: some outlets name every article by it."""
    if not link:
        return ""
    parts = urlsplit(link.strip())
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/')}{query}"
