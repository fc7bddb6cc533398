"""What one outbox row sends, now: an alert with its story's coverage, the redraw of a
chat's story message, or a short reply to it.

Composed at send time from the stored story, so an edit always shows the full
current coverage (a lost or coalesced edit is repaired by the next one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot.alerts.render import (
    MAX_LENGTH,
    mute_buttons,
    strip_html,
    telegram_length,
    zone_or_utc,
)
from bot.alerts.senders import OnStart, Sender
from bot.store import stories
from bot.store.db import Database
from bot.store.outbox import OutboxItem
from bot.stories.render import (
    CoverageItem,
    coverage_block,
    language_reply,
    story_count_block,
)
from bot.telegram.i18n import t

STORY_CALLBACK = "story:{id}"


@dataclass(frozen=True)
class Outgoing:
    html: str
    buttons: tuple[tuple[str, str], ...] = ()  # (label, callback data), one per row
    edit_message_id: int | None = None  # redraw this message instead of sending one
    reply_to: int | None = None
    thread_id: int | None = None  # else the row's own


class NothingToSend(Exception):
    """The row can never be sent (its story or story message is gone); the reason, one line."""


RenderAlert = Callable[[OutboxItem], Awaitable[str]]


def story_buttons(story_id: int | None, lang: str) -> tuple[tuple[str, str], ...]:
    if story_id is None:
        return ()
    return ((t(lang, "stories.button"), STORY_CALLBACK.format(id=story_id)),)


def _items(entries: list[stories.StoryEntry]) -> list[CoverageItem]:
    return [CoverageItem(e.outlet, e.language, e.published_at) for e in entries]


def _join(alert: str, block: str) -> tuple[str, bool]:
    """The alert with a block under it if both fit in one message, else the alert alone;
    and whether the block is in."""
    if not block:
        return alert, True
    joined = f"{alert}\n\n{block}"
    if telegram_length(strip_html(joined)) <= MAX_LENGTH:
        return joined, True
    return alert, False


async def _with_topics(db: Database, item: OutboxItem) -> OutboxItem:
    """Name every topic of the chat the entry matched, with all their terms."""
    found = await stories.entry_topics_for_chat(db, item.entry_id, item.chat_id)
    if not found:
        return replace(item, topics=((item.topic_id, item.topic_title),))
    terms = tuple(dict.fromkeys(term for _, _, ts in found for term in ts))
    return replace(item, topic_title=" · ".join(title for _, title, _ in found), terms=terms,
                   topics=tuple((topic_id, title) for topic_id, title, _ in found))


async def _story_message(db: Database, item: OutboxItem, entries: list[stories.StoryEntry],
                         shown_entry: int, render: RenderAlert,
                         timezone: str) -> tuple[str, bool]:
    """The alert for `shown_entry` in this chat with the rest of the story under it, and
    whether all of that fitted."""
    entry = next(e for e in entries if e.entry_id == shown_entry)
    shown = replace(item, entry_id=entry.entry_id, title=entry.title, summary=entry.summary,
                    link=entry.link, entry_language=entry.language, feed_name=entry.outlet,
                    published_at=entry.published_at,
                    # whether the feed dated it is known for the row's own entry only
                    seen_only=item.seen_only and entry.entry_id == item.entry_id)
    alert = await render(await _with_topics(db, shown))
    others = [e for e in entries if e.entry_id != shown_entry]
    budget = MAX_LENGTH - telegram_length(strip_html(alert)) - 2
    return _join(alert, coverage_block(_items(others), _items(entries), item.chat_language,
                                       zone_or_utc(timezone), budget=max(budget, 0)))


async def transmit(sender: Sender, item: OutboxItem, out: Outgoing,
                   on_start: OnStart) -> int | None:
    """Send or redraw; the message id the row is marked sent with."""
    if out.edit_message_id is not None:
        await sender.edit(item.chat_id, out.edit_message_id, out.html, on_start=on_start,
                          buttons=out.buttons)
        return out.edit_message_id
    thread_id = out.thread_id if out.thread_id is not None else item.thread_id
    return await sender.send(item.chat_id, thread_id, out.html, on_start=on_start,
                             buttons=out.buttons, reply_to=out.reply_to, silent=item.silent)


async def compose(db: Database, item: OutboxItem, render: RenderAlert, timezone: str,
                  editable: bool = True) -> Outgoing:
    """The message for one claimed row, drawn from the story as it is now, its times in
    `timezone` (the chat's, see `chats.shown_timezone`); with `editable` false, an edit
    becomes a reply (the message just refused an edit)."""
    lang = item.chat_language
    named = await _with_topics(db, item)
    buttons = story_buttons(item.story_id, lang) + mute_buttons(named.topics, lang)
    if item.story_id is None:  # queued before stories existed
        return Outgoing(await render(named), buttons)
    entries = await stories.story_entries(db, item.story_id)
    if not entries:
        raise NothingToSend("the story was pruned")
    if item.kind == "send":
        message = await stories.story_message(db, item.story_id, item.chat_id)
        if message is not None and message.entry_id == item.entry_id:  # grow: the story message
            html, _ = await _story_message(db, item, entries, item.entry_id, render,
                                                timezone)
            return Outgoing(html, buttons)
        alert = await render(await _with_topics(db, item))  # each: an alert of its own
        block = story_count_block(_items(entries), lang) if len(entries) > 1 else ""
        return Outgoing(_join(alert, block)[0], buttons)
    message = await stories.story_message(db, item.story_id, item.chat_id)
    if message is None or message.message_id is None:
        adopted = await stories.adopt_story_message(db, item.story_id, item.chat_id,
                                                    item.entry_id, item.id)
        if adopted is None:
            raise NothingToSend("the story message was never sent")
        # Telegram refused the story's message: this row sends the story in its place.
        html, _ = await _story_message(db, item, entries, item.entry_id, render, timezone)
        return Outgoing(html, buttons, thread_id=adopted.thread_id)
    if item.kind == "reply":
        language = next((e.language for e in entries if e.entry_id == item.entry_id), None)
        if language is None:
            raise NothingToSend("the entry left the story")
        outlets = [e.outlet for e in entries if e.language == language]
        return Outgoing(language_reply(language, outlets, lang), reply_to=message.message_id)
    if message.editable and editable:
        html, complete = await _story_message(db, item, entries, message.entry_id, render,
                                                      timezone)
        if complete:
            return Outgoing(html, buttons, edit_message_id=message.message_id)
    # The message cannot carry the coverage (too old, deleted, too long): a reply does.
    others = [e for e in entries if e.entry_id != message.entry_id]
    block = coverage_block(_items(others), _items(entries), lang, zone_or_utc(timezone))
    return Outgoing(block, buttons, reply_to=message.message_id)

