"""Whose topics a topic command edits: bot admins edit the shared topics; with
`bot.personal_topics`, anyone else edits their own, in their private chat only."""

from __future__ import annotations

from dataclasses import dataclass

PERSONAL_LIMIT = 20  # personal topics a user may have


@dataclass(frozen=True)
class Editor:
    owner: int | None  # the topics' owner: None for the shared ones, else the user's id

    @property
    def personal(self) -> bool:
        return self.owner is not None


@dataclass(frozen=True)
class Refused:
    key: str  # the i18n catalog's refusal


def topic_editor(*, is_admin: bool, personal_topics: bool, private_chat: bool,
                 user_id: int | None) -> Editor | Refused:
    if is_admin:
        return Editor(None)
    if not personal_topics or user_id is None:
        return Refused("admin.refused")
    if not private_chat:
        return Refused("personal.private_only")
    return Editor(user_id)
