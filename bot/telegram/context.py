"""What every handler reaches: the services (BotContext), the chat's language, a reply in it.

The app wiring builds one BotContext; `build_application` stores it in
`application.bot_data`, so handlers stay plain functions of (update, context).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Update
from telegram.constants import MessageLimit
from telegram.ext import ContextTypes

from bot.config import Config
from bot.digests.chart import ChartPool
from bot.i18n import t
from bot.message_text import shorten, telegram_length
from bot.store import chats
from bot.store.db import Database

if TYPE_CHECKING:
    from bot.translation.service import Translator

CONTEXT_KEY = "coverage_bot"
T = TypeVar("T")

Callback = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


@dataclass
class BotContext:
    """The domain the handlers call; built by the app wiring.

    on_topics_changed / on_feeds_changed run after an admin command changed
    topics or feeds in the database, so the matcher and the poller reload.
    """

    db: Database
    config: Config
    translator: Translator | None = None  # None: /addtopic needs every language written out
    on_topics_changed: Callback = _nothing
    on_feeds_changed: Callback = _nothing
    on_digest_changed: Callable[[], None] = lambda: None  # wakes the digest sender
    clock: Callable[[], float] = field(default=time.time)
    charts: ChartPool = field(default_factory=ChartPool)  # /trend draws off the event loop


def services(context: ContextTypes.DEFAULT_TYPE) -> BotContext:
    return context.bot_data[CONTEXT_KEY]


async def language_of(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> str:
    ctx = services(context)
    return await chats.chat_language(ctx.db, chat_id, ctx.config.bot.default_language)


async def timezone_of(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> str:
    """The IANA zone times are shown in for this chat."""
    ctx = services(context)
    return await chats.chat_timezone(ctx.db, chat_id, ctx.config.bot.default_timezone)


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str,
                **values: Any) -> None:
    """Answer in the chat's language with the catalog string `key` (plain text, no markup)."""
    lang = await language_of(context, update.effective_chat.id)
    await reply_text(update, t(lang, key, **values))


# A reply longer than this many messages is cut: the chat asked one question.
MAX_REPLY_MESSAGES = 5


def split_message(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH,
                  max_parts: int = MAX_REPLY_MESSAGES) -> list[str]:
    """Text as messages of at most `limit` UTF-16 units (Telegram's count), cut
    between paragraphs where possible, else between lines; a single line longer
    than a message is shortened. Past `max_parts` messages the last one ends in
    an ellipsis."""
    if telegram_length(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        for separator, piece in _pieces(paragraph, limit):
            joined = f"{current}{separator}{piece}" if current else piece
            if telegram_length(joined) <= limit:
                current = joined
                continue
            parts.append(current)
            current = piece
    parts.append(current)
    if len(parts) > max_parts:
        parts = parts[:max_parts]
        parts[-1] = shorten(parts[-1] + "\n…", limit)
    return parts


def _pieces(paragraph: str, limit: int) -> list[tuple[str, str]]:
    """(separator before it, text) of a paragraph: whole when it fits, else its lines."""
    if telegram_length(paragraph) <= limit:
        return [("\n\n", paragraph)]
    lines = [shorten(line, limit) for line in paragraph.split("\n")]
    return [("\n\n", lines[0]), *(("\n", line) for line in lines[1:])]


async def reply_text(update: Update, text: str, **kwargs: Any) -> None:
    """Plain text: titles, queries and URLs are shown as typed, with nothing to escape.
    A long answer goes out as several messages, buttons under the last."""
    parts = split_message(text)
    first = {key: value for key, value in kwargs.items() if key != "reply_markup"}
    for number, part in enumerate(parts, 1):
        await update.effective_message.reply_text(
            part, **(kwargs if number == len(parts) else first))


WORKING_AFTER = 1.0  # seconds of silence after which a slow command says it is on it


async def working_on(update: Update, context: ContextTypes.DEFAULT_TYPE,
                     work: Awaitable[T], after: float = WORKING_AFTER) -> T:
    """`work`'s result; if it takes longer than `after` (a translator, a chart), the chat
    is told "working on it" meanwhile instead of waiting in silence."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait([task], timeout=after)
        if not done:
            await reply(update, context, "progress.working")
        return await task
    finally:
        task.cancel()  # the handler was cancelled (the bot stops): so is the work
