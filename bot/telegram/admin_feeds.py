"""Bot admin commands about feeds: /addfeed /delfeed /feeds /export /import (an OPML
document with the caption `/import LANG`)."""

from __future__ import annotations

from datetime import tzinfo

from telegram import InputFile, LinkPreviewOptions, Update
from telegram.ext import ContextTypes

from bot.feeds.edits import FeedRefused, add_checked_feed, import_feeds
from bot.feeds.opml import OpmlError, read_opml
from bot.i18n import plural, t
from bot.locale_format import format_duration, format_moment, format_number, zone_or_utc
from bot.model import LANGUAGES, Feed, FeedHealth
from bot.store import feeds
from bot.telegram.admin import admin_only
from bot.telegram.context import (
    language_of,
    reply,
    reply_text,
    services,
    split_message,
    timezone_of,
)
from bot.topics.exports import export_files

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


def feed_block(feed: Feed, health: FeedHealth, lang: str, zone: tzinfo, now: float,
               stale_after: float) -> str:
    """One feed in /feeds, times in the chat's zone: last success, entries seen, next poll;
    since when it fails (and its last error) or since when it has published nothing new."""

    def when(seconds: float | None) -> str:
        return format_moment(seconds, zone, lang) if seconds else t(lang, "feeds.never")

    lines = [t(lang, "feeds.line", name=feed.name or feed.url, language=feed.language,
               url=feed.url, success=when(health.last_success_at),
               seen=format_number(health.entries_seen, lang), next=when(health.next_poll_at))]
    if health.poll_interval and health.failing_since is None:
        lines.append(t(lang, "feeds.interval",
                       interval=format_duration(health.poll_interval, lang)))
    if health.failing_since is not None:
        lines.append(t(lang, "feeds.failing", since=when(health.failing_since),
                       failures=plural(lang, "feeds.failures", health.consecutive_failures)))
    elif health.stale(now, stale_after):
        lines.append(t(lang, "feeds.stale", since=when(health.last_new_at)))
    if health.last_error:
        lines.append(t(lang, "feeds.error", when=when(health.last_error_at),
                       error=health.last_error))
    return "\n".join(lines)


@admin_only
async def feeds_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await reply(update, context, "usage.feeds")
        return
    ctx = services(context)
    chat_id = update.effective_chat.id
    lang = await language_of(context, chat_id)
    zone = zone_or_utc(await timezone_of(context, chat_id))
    found = await feeds.list_health(ctx.db)
    if not found:
        await reply(update, context, "feeds.none")
        return
    now = ctx.clock()
    blocks = [feed_block(feed, health, lang, zone, now, ctx.config.health.stale_after)
              for feed, health in found]
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
