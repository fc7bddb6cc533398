"""Who hears of an entry that joined a story, and how: a new message, an edit, a reply.

Pure: the store reads the story's state, this decides, the store writes the
decision in the same transaction as the entry's matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Coverage = Literal["grow", "each"]
COVERAGE_MODES: tuple[str, ...] = ("grow", "each")
CONDITIONS: dict[str, int] = {"outlets": 100, "languages": 3}  # word -> largest N


@dataclass(frozen=True)
class CoverageSetting:
    """How a story reaches a chat: `/coverage grow|each [outlets N] [languages N]`."""

    mode: str = "grow"
    outlets: int = 1  # the story reaches the chat once it has this many outlets…
    languages: int = 1  # …and this many languages

    @property
    def conditional(self) -> bool:
        return self.outlets > 1 or self.languages > 1

    def reached(self, spread: Spread) -> bool:
        return spread.outlets >= self.outlets and spread.languages >= self.languages


class BadCoverage(ValueError):
    """`/coverage` arguments that say nothing valid; args: (catalog key, values)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def parse_coverage(words: Sequence[str]) -> CoverageSetting:
    """`grow|each [outlets N] [languages N]` (in any order after the mode, each once)."""
    if not words or words[0].lower() not in COVERAGE_MODES:
        raise BadCoverage("coverage.usage")
    counts = {name: 1 for name in CONDITIONS}
    given: set[str] = set()
    rest = [w.lower() for w in words[1:]]
    if len(rest) % 2:
        raise BadCoverage("coverage.usage")
    for name, value in zip(rest[::2], rest[1::2]):
        if name not in CONDITIONS or name in given:
            raise BadCoverage("coverage.usage")
        given.add(name)
        largest = CONDITIONS[name]
        if (not (value.isascii() and value.isdigit()) or len(value) > 4
                or not 1 <= int(value) <= largest):
            raise BadCoverage("coverage.bad_number", word=name, value=value[:20],
                              largest=largest)
        counts[name] = int(value)
    return CoverageSetting(words[0].lower(), counts["outlets"], counts["languages"])


@dataclass(frozen=True)
class Spread:
    """How far a story has got: its outlets and languages, this entry included."""

    outlets: int
    languages: int


@dataclass(frozen=True)
class Subscriber:
    """A chat following one of the topics the entry matched."""

    chat_id: int
    topic_id: int
    thread_id: int | None
    coverage: str
    outlets: int = 1  # the chat's conditions (see CoverageSetting)
    languages: int = 1

    @property
    def setting(self) -> CoverageSetting:
        return CoverageSetting(self.coverage, self.outlets, self.languages)


@dataclass(frozen=True)
class StoryChat:
    """A chat that already has the story's message (it started there in `grow`)."""

    chat_id: int
    coverage: str
    following: bool = True  # still subscribed to one of the topics the story matched


@dataclass(frozen=True)
class Send:
    """A message of its own for the entry (the story's first in this chat, or `each`)."""

    chat_id: int
    topic_id: int  # the first matched topic the chat follows; the message names them all
    thread_id: int | None
    starts_story_message: bool  # `grow`: later entries edit this message


@dataclass(frozen=True)
class Edit:
    """The chat's story message is redrawn with the full current coverage (silent)."""

    chat_id: int


@dataclass(frozen=True)
class Reply:
    """A short reply to the story message: the story reached a new language."""

    chat_id: int


Intent = Send | Edit | Reply


def plan_delivery(subscribers: list[Subscriber], story_chats: list[StoryChat],
                  new_language: bool, spread: Spread | None = None) -> list[Intent]:
    """What each chat gets for one entry of a story.

    `subscribers` in subscription order; `new_language`: the entry is the story's
    first in its language (never true for a story's first entry); `spread`: the
    story's outlets and languages with this entry (None: no chat's condition is
    checked). A chat with the story's message in `grow` gets it edited (and a reply
    when the story crosses a language), whichever topic the new entry matched: it is
    the same event; unless it follows none of the story's topics any more, then it
    gets nothing. Any other chat following a matched topic gets one message, however
    many of its topics matched, once the story has the spread the chat asked for.
    """
    intents: list[Intent] = []
    has_message = {c.chat_id for c in story_chats if c.coverage == "grow"}
    for chat in story_chats:
        if chat.chat_id in has_message and chat.following:
            intents.append(Edit(chat.chat_id))
            if new_language:
                intents.append(Reply(chat.chat_id))
    seen: set[int] = set()
    for sub in subscribers:
        if sub.chat_id in seen or sub.chat_id in has_message:
            continue
        seen.add(sub.chat_id)
        if spread is not None and not sub.setting.reached(spread):
            continue  # held back until the story spreads that far
        intents.append(Send(sub.chat_id, sub.topic_id, sub.thread_id,
                            starts_story_message=sub.coverage == "grow"))
    return intents
