"""What every handler reaches: the services (BotContext), the chat's language, a reply in it.

The app wiring builds one BotContext; `build_application` stores it in
`application.bot_data`, so handlers stay plain functions of (update, context).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.config import Config
from bot.digests.chart import ChartPool
from bot.store import chats
from bot.store.db import Database
from bot.telegram.i18n import t

if TYPE_CHECKING:
    from bot.translation.service import Translator

CONTEXT_KEY = "coverage_bot"

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


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, key: str,
                **values: Any) -> None:
    """Answer in the chat's language with the catalog string `key` (plain text, no markup)."""
    lang = await language_of(context, update.effective_chat.id)
    await reply_text(update, t(lang, key, **values))


async def reply_text(update: Update, text: str, **kwargs: Any) -> None:
    # Plain text: titles, queries and URLs are shown as typed, with nothing to escape.
    await update.effective_message.reply_text(text, **kwargs)
