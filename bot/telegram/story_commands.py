"""/story (as a reply to an alert, or by id), the story button under alerts, and
/coverage grow|each [outlets N] [languages N] with its @channel form."""

from __future__ import annotations

import asyncio
import html
import logging
import time

from telegram import LinkPreviewOptions, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.fanout import BadCoverage, CoverageSetting, parse_coverage
from bot.i18n import plural, t
from bot.locale_format import zone_or_utc
from bot.message_text import shorten, strip_html
from bot.store import chats, stories
from bot.stories.render import CoverageItem, story_listing
from bot.telegram.arguments import positive_int
from bot.telegram.commands import arguments_and_target
from bot.telegram.context import language_of, reply, reply_text, services, timezone_of
from bot.translation.titles import title_in

log = logging.getLogger(__name__)

STORY_PATTERN = r"^story:\d+$"
CALLBACK_ALERT_LENGTH = 200  # Telegram's limit for a callback answer's text


async def _title_in(context: ContextTypes.DEFAULT_TYPE, entry: stories.StoryEntry,
                    lang: str) -> str:
    return await title_in(services(context).translator, entry.title, entry.language, lang)


async def _listing(context: ContextTypes.DEFAULT_TYPE, chat_id: int, story_id: int) -> str:
    """The story as /story shows it in this chat (HTML), or the 'no such story' line."""
    ctx = services(context)
    lang = await language_of(context, chat_id)
    entries = await stories.story_entries(ctx.db, story_id)
    if not entries:
        return html.escape(t(lang, "stories.unknown", id=story_id))
    titles = await asyncio.gather(*(_title_in(context, e, lang) for e in entries))
    items = [CoverageItem(e.outlet, e.language, e.published_at, title, e.link)
             for e, title in zip(entries, titles)]
    zone = zone_or_utc(await timezone_of(context, chat_id))
    uncovered = await stories.uncovered_outlets(ctx.db, story_id)
    return story_listing(story_id, items, uncovered, lang, zone, time.time())


async def _answer(update: Update, listing: str) -> None:
    await update.effective_message.reply_text(
        listing, parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True))


async def story_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = services(context)
    chat_id = update.effective_chat.id
    args = context.args
    story_id = positive_int(args[0]) if len(args) == 1 else None
    if len(args) > 1 or (args and story_id is None):
        await reply(update, context, "stories.usage")
        return
    if not args:
        quoted = update.effective_message.reply_to_message
        if quoted is None:
            await reply(update, context, "stories.usage")
            return
        story_id = await stories.story_of_message(ctx.db, chat_id, quoted.message_id)
        if story_id is None:
            await reply(update, context, "stories.not_an_alert")
            return
    await _answer(update, await _listing(context, chat_id, story_id))


async def story_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The button under an alert: the story's coverage as a reply to that alert (in a
    channel, where a reply would reach every subscriber, as a pop-up to the one who tapped)."""
    query = update.callback_query
    chat = update.effective_chat
    story_id = positive_int(query.data.split(":")[1])
    if story_id is None:  # forged: no story has this id
        await query.answer(t(await language_of(context, chat.id), "stories.unknown",
                             id=query.data.split(":")[1][:20]), show_alert=True)
        return
    text = await _listing(context, chat.id, story_id)
    if chat.type == ChatType.CHANNEL:
        await query.answer(shorten(strip_html(text), CALLBACK_ALERT_LENGTH), show_alert=True)
        return
    await query.answer()
    try:
        await query.message.reply_text(
            text, parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True), do_quote=True)
    except TelegramError as exc:  # the alert was deleted meanwhile, or the chat is gone
        log.info("could not answer the story button in %s: %s", chat.id, exc)


def _conditions(setting: CoverageSetting, lang: str) -> str:
    """' A story reaches it only once it has at least 3 outlets.' or nothing."""
    parts = [plural(lang, f"coverage.{name}_at_least", n)
             for name, n in (("outlets", setting.outlets), ("languages", setting.languages))
             if n > 1]
    if not parts:
        return ""
    return " " + t(lang, "coverage.condition", parts=t(lang, "coverage.and").join(parts))


async def coverage_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/coverage grow|each [outlets N] [languages N] [@channel]`."""
    found = await arguments_and_target(update, context, "coverage.usage")
    if found is None:
        return
    words, target = found
    lang = await language_of(context, update.effective_chat.id)
    try:
        setting = parse_coverage(words)
    except BadCoverage as bad:
        await reply_text(update, t(lang, bad.key, **bad.values))
        return
    await chats.set_coverage(services(context).db, target.chat_id, setting)
    if target.channel:
        text = t(lang, f"coverage.{setting.mode}_channel", channel=target.channel)
    else:
        text = t(lang, f"coverage.{setting.mode}")
    await reply_text(update, text + _conditions(setting, lang))
