"""/addtopic's guided form, for people who do not write queries: `/addtopic NAME` and
plain words become a query in the chat's language, which the usual path then fills into
the other languages. Words are all required; commas separate alternatives, as in
`/addtopic oreshnik Oreshnik missile, Oreshnik launch`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import TOPIC_NAME
from bot.topics.edits import FormError

# Plain words only: no operator, quote, star or parenthesis of the query language can
# slip through, whatever the user types. A hyphen inside a word stays (a phrase, as in
# queries); an apostrophe separates words, as in matching ("l'OTAN" is "l" "otan").
_WORD = re.compile(r"\w+(?:-\w+)*")
_ALTERNATIVES = re.compile(r"[,;\n]")

# Words a search phrased in plain words does not need: requiring "in" or "de" would
# only miss entries that happen to be worded without them.
STOP_WORDS = {
    "en": frozenset("a an and the of in on at to for with by from or about as is are s".split()),
    "fr": frozenset("le la les l un une des de du d et ou en au aux à a pour sur dans par "
                    "avec est sont qu c s n".split()),
    "ru": frozenset("в во на и или с со к ко по о об от для из за у а же ли".split()),
}
MAX_WORDS = 20


@dataclass(frozen=True)
class GuidedForm:
    name: str
    words: str  # as typed, the topic's title too


def is_guided(text: str) -> bool:
    """An /addtopic without `LANG: QUERY` lines is the guided form."""
    return not any(re.match(r"^\s*[A-Za-z]{2}\s*:", line) for line in text.splitlines()[1:])


def read_guided(text: str) -> GuidedForm:
    """`/addtopic NAME words…` (words may go on to the next lines) -> GuidedForm."""
    parts = text.split(maxsplit=2)[1:]  # drop the /addtopic itself
    if not parts:
        raise FormError("addtopic.usage")
    name = parts[0]
    if not TOPIC_NAME.match(name):
        raise FormError("addtopic.bad_name", name=name)
    words = " ".join(parts[1].split()) if len(parts) > 1 else ""
    if not words:
        raise FormError("guided.no_words", name=name)
    return GuidedForm(name, words)


def query_from_words(words: str, language: str) -> str:
    """Plain words -> a query: the words of each comma-separated part ANDed, the parts
    ORed; stop words dropped (unless a part has nothing else). FormError when no word
    is left."""
    stop = STOP_WORDS.get(language, frozenset())
    groups: list[list[str]] = []
    for part in _ALTERNATIVES.split(words):
        found = [word.lower() for word in _WORD.findall(part)]
        kept = [word for word in found if word not in stop] or found
        kept = list(dict.fromkeys(kept))[:MAX_WORDS]
        if kept and kept not in groups:
            groups.append(kept)
    if not groups:
        raise FormError("guided.no_words", name="")
    if len(groups) == 1:
        return " AND ".join(groups[0])
    return " OR ".join(f"({' AND '.join(g)})" if len(g) > 1 else g[0] for g in groups)
