"""The buttons under an alert: "mute TOPIC" unsubscribes the chat the alert went to."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.i18n import t
from bot.store import chats, topics
from bot.telegram.access import may_manage_chat
from bot.telegram.arguments import positive_int
from bot.telegram.context import language_of, services

MUTE_PATTERN = r"^mute:\d+$"


async def mute_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unsubscribe this chat from the alert's topic; in groups and channels, admins only."""
    db = services(context).db
    query = update.callback_query
    chat_id = update.effective_chat.id
    lang = await language_of(context, chat_id)
    if not await may_manage_chat(context.bot, update):
        await query.answer(t(lang, "alert.mute_refused"), show_alert=True)
        return
    topic_id = positive_int(query.data.split(":")[1])
    name = await topics.topic_name(db, topic_id) if topic_id is not None else None
    topic = await topics.get_topic(db, name) if name is not None else None
    if topic is None:
        await query.answer(t(lang, "topics.gone"), show_alert=True)
        return
    title = topic.title_in(lang)
    if await chats.unsubscribe(db, chat_id, topic.name):
        await query.answer(t(lang, "alert.muted", title=title, name=topic.name), show_alert=True)
    else:
        await query.answer(t(lang, "alert.not_subscribed", title=title))
