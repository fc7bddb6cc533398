"""What one outbox row sends, now: an alert with its story's coverage, the redraw of a
chat's story message, or a short reply to it.

Composed at send time from the stored story, so an edit always shows the full
current coverage (a lost or coalesced edit is repaired by the next one).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Protocol

from bot.alerts.render import mute_buttons
from bot.alerts.senders import OnStart, Sender
from bot.i18n import t
from bot.locale_format import zone_or_utc
from bot.message_text import strip_html
from bot.store import stories
from bot.store.db import Database
from bot.store.outbox import OutboxItem
from bot.stories.render import (
    CoverageItem,
    Room,
    coverage_block,
    grown_alert,
    language_reply,
    new_lines,
    story_count_block,
)

STORY_CALLBACK = "story:{id}"


@dataclass(frozen=True)
class Outgoing:
    html: str
    buttons: tuple[tuple[str, str], ...] = ()  # (label, callback data), one per row
    edit_message_id: int | None = None  # redraw this message instead of sending one
    reply_to: int | None = None
    thread_id: int | None = None  # else the row's own
    silent: bool = False  # without a notification sound (else as the row says)


class NothingToSend(Exception):
    """The row can never be sent (its story or story message is gone); the reason, one line."""


class Renderer(Protocol):
    """The render stage (alerts/render_stage.py): a row's alert, an entry's title."""

    async def __call__(self, item: OutboxItem) -> str: ...

    async def title(self, entry_id: int, title: str, summary: str, source: str,
                    target: str) -> str: ...


class _Story:
    """A story as one chat sees it now; its lines' titles are translated on demand."""

    def __init__(self, story_id: int, entries: list[stories.StoryEntry],
                 topics: list[tuple[int, str]], render: Renderer, lang: str, zone: tzinfo,
                 now: float) -> None:
        self.id = story_id
        self.entries = entries
        self.topics = topics  # the chat's topics any entry matched, first matched first
        self.zone = zone
        self.now = now
        self._render = render
        self._lang = lang

    def counted(self, entries: list[stories.StoryEntry] | None = None) -> list[CoverageItem]:
        """Outlets and languages, enough for the story's count."""
        return [CoverageItem(e.outlet, e.language, e.published_at)
                for e in (self.entries if entries is None else entries)]

    async def lines(self, entries: list[stories.StoryEntry]) -> list[CoverageItem]:
        """Coverage lines, each title in the chat's language (translated, else original)."""
        titles = await asyncio.gather(*(
            self._render.title(e.entry_id, e.title, e.summary, e.language, self._lang)
            for e in entries))
        return [CoverageItem(e.outlet, e.language, e.published_at, title, e.link)
                for e, title in zip(entries, titles)]


def story_buttons(story_id: int | None, lang: str) -> tuple[tuple[str, str], ...]:
    if story_id is None:
        return ()
    return ((t(lang, "stories.button"), STORY_CALLBACK.format(id=story_id)),)


async def _read_story(db: Database, item: OutboxItem, render: Renderer, timezone: str,
                      now: float) -> _Story:
    entries = await stories.story_entries(db, item.story_id)
    if not entries:
        raise NothingToSend("the story was pruned")
    topics = await stories.story_topics_for_chat(db, item.story_id, item.chat_id)
    if not topics:
        raise NothingToSend("the chat no longer follows any topic of the story")
    return _Story(item.story_id, entries, topics, render, item.chat_language,
                  zone_or_utc(timezone), now)


async def _named(db: Database, item: OutboxItem, topics: list[tuple[int, str]]
                 ) -> OutboxItem:
    """The row naming `topics`, with the words its own entry matched for this chat."""
    found = await stories.entry_topics_for_chat(db, item.entry_id, item.chat_id)
    terms = tuple(dict.fromkeys(term for _, _, ts in found for term in ts))
    return replace(item, topic_title=" · ".join(title for _, title in topics),
                   terms=terms or item.terms, topics=tuple(topics))


async def _story_message(db: Database, item: OutboxItem, story: _Story, shown_entry: int,
                         render: Renderer) -> str | None:
    """The alert for `shown_entry` in this chat with the rest of the story under it;
    None when not even the newest line fits under the alert."""
    entry = next(e for e in story.entries if e.entry_id == shown_entry)
    shown = replace(item, entry_id=entry.entry_id, title=entry.title, summary=entry.summary,
                    link=entry.link, entry_language=entry.language, feed_name=entry.outlet,
                    published_at=entry.published_at,
                    # whether the feed dated it is known for the row's own entry only
                    seen_only=item.seen_only and entry.entry_id == item.entry_id)
    alert = await render(await _named(db, shown, story.topics))
    others = await story.lines([e for e in story.entries if e.entry_id != shown_entry])
    return grown_alert(alert, strip_html(alert), others, story.counted(), story.id,
                       item.chat_language, story.zone, story.now)


async def _each_message(db: Database, item: OutboxItem, story: _Story,
                        render: Renderer) -> str:
    """`each`: the entry's own alert; the first the chat gets of the story carries the
    coverage so far, later ones the story's count."""
    alert = await render(await _named(db, item, story.topics))
    if len(story.entries) < 2:
        return alert
    lang = item.chat_language
    if not await stories.sent_before(db, story.id, item.chat_id, item.id):
        order = [e.entry_id for e in story.entries]
        position = order.index(item.entry_id) if item.entry_id in order else len(order) - 1
        so_far = story.entries[:position + 1]
        others = await story.lines([e for e in so_far if e.entry_id != item.entry_id])
        block = coverage_block(others, story.counted(so_far), story.id, lang, story.zone,
                               story.now, Room.under(alert, strip_html(alert)))
        if block:
            return f"{alert}\n\n{block}"
    block = story_count_block(story.counted(), lang)
    room = Room.under(alert, strip_html(alert))
    return f"{alert}\n\n{block}" if len(strip_html(block)) <= room.text else alert


async def _new_lines(db: Database, item: OutboxItem, story: _Story) -> str:
    """What an edit row adds, as a reply: the lines of the entries that joined from its
    entry up to the next edit row's (edits waiting are coalesced into one row)."""
    order = [e.entry_id for e in story.entries]
    if item.entry_id not in order:
        raise NothingToSend("the entry left the story")
    start = order.index(item.entry_id)
    end = await stories.next_edit_entry(db, story.id, item.chat_id, item.id)
    stop = order.index(end) if end in order[start + 1:] else len(order)
    reply = new_lines(await story.lines(story.entries[start:stop]), story.id,
                      item.chat_language, story.zone, story.now)
    if reply is None:
        raise NothingToSend("no line to add")
    return reply


async def transmit(sender: Sender, item: OutboxItem, out: Outgoing,
                   on_start: OnStart, *, quiet: bool = False) -> int | None:
    """Send or redraw; the message id the row is marked sent with. A new message goes
    without sound when its row says so or it is sent in the chat's quiet hours."""
    if out.edit_message_id is not None:
        await sender.edit(item.chat_id, out.edit_message_id, out.html, on_start=on_start,
                          buttons=out.buttons)
        return out.edit_message_id
    thread_id = out.thread_id if out.thread_id is not None else item.thread_id
    return await sender.send(item.chat_id, thread_id, out.html, on_start=on_start,
                             buttons=out.buttons, reply_to=out.reply_to,
                             silent=item.silent or out.silent or quiet)


async def compose(db: Database, item: OutboxItem, render: Renderer, timezone: str,
                  editable: bool = True, now: float | None = None) -> Outgoing:
    """The message for one claimed row, drawn from the story as it is now, its times in
    `timezone` (the chat's, see `chats.shown_timezone`); with `editable` false, an edit
    becomes a reply of its new lines (the message just refused an edit)."""
    lang = item.chat_language
    if item.story_id is None:  # queued before stories existed
        found = await stories.entry_topics_for_chat(db, item.entry_id, item.chat_id)
        topics = [(topic_id, title) for topic_id, title, _ in found] or \
            [(item.topic_id, item.topic_title)] if item.topic_id and item.topic_title else []
        named = await _named(db, item, topics)
        return Outgoing(await render(named), mute_buttons(named.topics, lang))
    story = await _read_story(db, item, render, timezone, time.time() if now is None else now)
    # The story's topics for this chat, in a stable order: the same buttons at every edit.
    buttons = story_buttons(story.id, lang) + mute_buttons(story.topics, lang)
    message = await stories.story_message(db, story.id, item.chat_id)
    if item.kind == "send":
        if message is not None and message.entry_id == item.entry_id:  # grow: the story message
            html = await _story_message(db, item, story, item.entry_id, render)
            if html is None:  # the alert alone fills the message: the lines come as replies
                html = await render(await _named(db, item, story.topics))
            return Outgoing(html, buttons)
        return Outgoing(await _each_message(db, item, story, render), buttons)
    if message is None or message.message_id is None:
        adopted = await stories.adopt_story_message(db, story.id, item.chat_id,
                                                    item.entry_id, item.id)
        if adopted is None:
            raise NothingToSend("the story message was never sent")
        # Telegram refused the story's message: this row sends the story in its place.
        html = await _story_message(db, item, story, item.entry_id, render)
        if html is None:
            html = await render(await _named(db, item, story.topics))
        return Outgoing(html, buttons, thread_id=adopted.thread_id)
    if item.kind == "reply":
        language = next((e.language for e in story.entries if e.entry_id == item.entry_id),
                        None)
        if language is None:
            raise NothingToSend("the entry left the story")
        outlets = [e.outlet for e in story.entries if e.language == language]
        return Outgoing(language_reply(language, outlets, lang), reply_to=message.message_id)
    if message.editable and editable:
        html = await _story_message(db, item, story, message.entry_id, render)
        if html is not None:
            return Outgoing(html, buttons, edit_message_id=message.message_id)
    # The message cannot carry the new line (too old, deleted, full): a reply does, alone,
    # and as silently as the edit it stands for.
    return Outgoing(await _new_lines(db, item, story), reply_to=message.message_id,
                    silent=True)
