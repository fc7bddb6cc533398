"""Bot admin commands about feeds: /addfeed /delfeed /feeds /export /import (an OPML
document with the caption `/import LANG`)."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import InputFile, LinkPreviewOptions, Update
from telegram.ext import ContextTypes

from bot.feeds.edits import FeedRefused, add_checked_feed, export_files, import_feeds
from bot.feeds.opml import OpmlError, read_opml
from bot.model import LANGUAGES
from bot.store import feeds
from bot.telegram.admin import admin_only
from bot.telegram.context import language_of, reply, reply_text, services, split_message
from bot.telegram.i18n import t

IMPORT_MAX_BYTES = 1_000_000
IMPORT_MAX_FEEDS = 500  # each is resolved and checked in turn
REFUSED_SHOWN = 10
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@admin_only
async def addfeed_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = services(context)
    args = context.args
    if len(args) < 2 or args[1].lower() not in LANGUAGES:
        await reply(update, context, "addfeed.usage")
        return
    url, language, name = args[0], args[1].lower(), " ".join(args[2:])
    lang = await language_of(context, update.effective_chat.id)
    try:
        feed = await add_checked_feed(ctx.db, ctx.config.polling, url, language, name)
    except FeedRefused as exc:
        if exc.reason is None:
            await reply(update, context, "addfeed.bad_url", url=url)
        else:
            await reply(update, context, "addfeed.refused", reason=exc.reason)
        return
    except feeds.FeedExists:
        await reply(update, context, "addfeed.exists", url=url)
        return
    await ctx.on_feeds_changed()
    await reply_text(update, t(lang, "addfeed.done", name=feed.name or feed.url,
                               language=feed.language, url=feed.url),
                     link_preview_options=NO_PREVIEW)


@admin_only
async def delfeed_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = services(context)
    if len(context.args) != 1:
        await reply(update, context, "delfeed.usage")
        return
    url = context.args[0]
    if not await feeds.delete_feed(ctx.db, url):
        await reply(update, context, "delfeed.unknown", url=url)
        return
    await ctx.on_feeds_changed()
    await reply(update, context, "delfeed.done", url=url)


def _when(lang: str, seconds: float | None) -> str:
    if not seconds:
        return t(lang, "feeds.never")
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


@admin_only
async def feeds_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await reply(update, context, "usage.feeds")
        return
    ctx = services(context)
    lang = await language_of(context, update.effective_chat.id)
    found = await feeds.list_health(ctx.db)
    if not found:
        await reply(update, context, "feeds.none")
        return
    blocks = []
    for feed, health in found:
        lines = [t(lang, "feeds.line", name=feed.name or feed.url, language=feed.language,
                   url=feed.url, success=_when(lang, health.last_success_at),
                   seen=health.entries_seen, next=_when(lang, health.next_poll_at))]
        if health.last_error:
            lines.append(t(lang, "feeds.error", when=_when(lang, health.last_error_at),
                           error=health.last_error))
        blocks.append("\n".join(lines))
    # Every feed is listed, however many messages that takes.
    for text in split_message("\n\n".join(blocks), max_parts=len(blocks)):
        await reply_text(update, text, link_preview_options=NO_PREVIEW)


@admin_only
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await reply(update, context, "usage.export")
        return
    lang = await language_of(context, update.effective_chat.id)
    opml, feed_count, toml, topic_count = await export_files(services(context).db)
    message = update.effective_message
    await message.reply_document(InputFile(opml, filename="coverage-bot-feeds.opml"),
                                 caption=t(lang, "export.feeds", count=feed_count))
    await message.reply_document(InputFile(toml, filename="coverage-bot-topics.toml"),
                                 caption=t(lang, "export.topics", count=topic_count))


@admin_only
async def import_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/import typed as text: the file is missing."""
    await reply(update, context, "import.usage")


@admin_only
async def import_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = services(context)
    message = update.effective_message
    words = (message.caption or "").split()
    if len(words) != 2 or words[1].lower() not in LANGUAGES:
        await reply(update, context, "import.usage")
        return
    language = words[1].lower()
    if (message.document.file_size or 0) > IMPORT_MAX_BYTES:
        await reply(update, context, "import.too_big", limit=IMPORT_MAX_BYTES // 1000)
        return
    data = bytes(await (await message.document.get_file()).download_as_bytearray())
    if len(data) > IMPORT_MAX_BYTES:
        await reply(update, context, "import.too_big", limit=IMPORT_MAX_BYTES // 1000)
        return
    try:
        found = read_opml(data)
    except OpmlError as exc:
        await reply(update, context, "import.bad_file", error=str(exc))
        return
    if len(found) > IMPORT_MAX_FEEDS:
        await reply(update, context, "import.too_many", count=len(found), limit=IMPORT_MAX_FEEDS)
        return
    report = await import_feeds(ctx.db, ctx.config.polling, found, language)
    if report.added:
        await ctx.on_feeds_changed()
    lang = await language_of(context, update.effective_chat.id)
    lines = [t(lang, "import.done", added=len(report.added), skipped=len(report.skipped),
               refused=len(report.refused))]
    for url, reason in report.refused[:REFUSED_SHOWN]:
        lines.append(t(lang, "import.refused_line", url=url,
                       reason=reason or t(lang, "import.not_http")))
    if len(report.refused) > REFUSED_SHOWN:
        lines.append(t(lang, "input.more", count=len(report.refused) - REFUSED_SHOWN))
    await reply_text(update, "\n".join(lines), link_preview_options=NO_PREVIEW)
