"""Who hears of an entry that joined a story, and how: a new message, an edit, a reply.

Pure: the store reads the story's state, this decides, the store writes the
decision in the same transaction as the entry's matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Coverage = Literal["grow", "each"]
COVERAGE_MODES: tuple[str, ...] = ("grow", "each")


@dataclass(frozen=True)
class Subscriber:
    """A chat following one of the topics the entry matched."""

    chat_id: int
    topic_id: int
    thread_id: int | None
    coverage: str


@dataclass(frozen=True)
class StoryChat:
    """A chat that already has the story's message (it started there in `grow`)."""

    chat_id: int
    coverage: str


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
                  new_language: bool) -> list[Intent]:
    """What each chat gets for one entry of a story.

    `subscribers` in subscription order; `new_language`: the entry is the story's
    first in its language (never true for a story's first entry). A chat with the
    story's message in `grow` gets it edited (and a reply when the story crosses a
    language), whichever topic the new entry matched: it is the same event. Any
    other chat following a matched topic gets one message, however many of its
    topics matched.
    """
    intents: list[Intent] = []
    has_message = {c.chat_id for c in story_chats if c.coverage == "grow"}
    for chat in story_chats:
        if chat.chat_id in has_message:
            intents.append(Edit(chat.chat_id))
            if new_language:
                intents.append(Reply(chat.chat_id))
    seen: set[int] = set()
    for sub in subscribers:
        if sub.chat_id in seen or sub.chat_id in has_message:
            continue
        seen.add(sub.chat_id)
        intents.append(Send(sub.chat_id, sub.topic_id, sub.thread_id,
                            starts_story_message=sub.coverage == "grow"))
    return intents
