"""/digest, /surges and /trend, with the @channel forms of the first two."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot.digests.chart import ChartBusy
from bot.digests.schedule import BadDigestMode, DigestMode, next_end, parse_mode
from bot.digests.trend import (
    DEFAULT_PERIOD,
    PERIODS,
    count_slots,
    trend_caption,
    trend_chart,
    trend_span,
)
from bot.i18n import t
from bot.locale_format import zone_or_utc
from bot.shown_time import format_time
from bot.store import digests, topics
from bot.telegram.commands import _split_channel, _target
from bot.telegram.context import (
    language_of,
    reply,
    reply_text,
    services,
    timezone_of,
    working_on,
)

log = logging.getLogger(__name__)

def _mode_words(lang: str, mode: DigestMode) -> str:
    if mode.kind == "daily":
        return t(lang, "digest.modes.daily", time=f"{mode.at:%H:%M}")
    if mode.kind == "every":
        return t(lang, "digest.modes.every", duration=str(mode).split()[1])
    return t(lang, f"digest.modes.{mode.kind}")


async def _schedule_words(context: ContextTypes.DEFAULT_TYPE, lang: str, chat_id: int,
                          mode: DigestMode) -> dict[str, str]:
    name = await timezone_of(context, chat_id)
    zone = zone_or_utc(name)
    now = datetime.fromtimestamp(services(context).clock(), UTC)
    due = next_end(mode, zone, now).astimezone(zone)
    return {"mode": _mode_words(lang, mode), "timezone": name,
            "next": format_time(due, name, lang)}


async def digest_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    words, channels = _split_channel(context.args)
    ctx = services(context)
    if not words and not channels:
        await _digest_status(update, context)
        return
    try:
        mode = parse_mode(words)
    except BadDigestMode:
        await reply(update, context, "digest.usage")
        return
    if len(channels) > 1:
        await reply(update, context, "digest.usage")
        return
    target = await _target(update, context, channels)
    if target is None:
        return
    await digests.set_digest(ctx.db, target.chat_id, str(mode), ctx.clock())
    ctx.on_digest_changed()
    lang = await language_of(context, update.effective_chat.id)
    suffix = "_channel" if target.channel else ""
    if not mode.active:
        await reply_text(update, t(lang, f"digest.off{suffix}", channel=target.channel))
        return
    words = await _schedule_words(context, lang, target.chat_id, mode)
    await reply_text(update, t(lang, f"digest.set{suffix}", channel=target.channel, **words))


async def _digest_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = update.effective_chat.id
    stored = (await digests.settings(services(context).db, chat_id)).digest
    lang = await language_of(context, chat_id)
    mode = parse_mode(stored.split())
    if not mode.active:
        await reply(update, context, "digest.status")
        return
    await reply_text(update, t(lang, "digest.status_on",
                               **await _schedule_words(context, lang, chat_id, mode)))


async def surges_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    words, channels = _split_channel(context.args)
    if len(words) != 1 or words[0].lower() not in ("on", "off") or len(channels) > 1:
        await reply(update, context, "surge.usage")
        return
    target = await _target(update, context, channels)
    if target is None:
        return
    on = words[0].lower() == "on"
    await digests.set_surges(services(context).db, target.chat_id, on, time.time())
    key = ("surge.on" if on else "surge.off") + ("_channel" if target.channel else "")
    await reply(update, context, key, channel=target.channel)


async def trend_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args
    if not 1 <= len(args) <= 2 or (len(args) == 2 and args[1].lower() not in PERIODS):
        await reply(update, context, "trend.usage")
        return
    ctx = services(context)
    topic = await topics.get_topic(ctx.db, args[0], visible_to=update.effective_chat.id)
    if topic is None:
        await reply(update, context, "error.unknown_topic", names=args[0])
        return
    chat_id = update.effective_chat.id
    zone_name = await timezone_of(context, chat_id)
    span = trend_span(args[1].lower() if len(args) == 2 else DEFAULT_PERIOD, ctx.clock(),
                      zone_or_utc(zone_name))
    published = await digests.matched_published(ctx.db, topic.name, span.since.timestamp(),
                                                 span.until.timestamp())
    counts = count_slots(span, published)
    lang = await language_of(context, chat_id)
    title = topic.title_in(lang)
    try:
        png = await working_on(update, context,
                               ctx.charts.render(trend_chart(lang, title, span, zone_name, counts)))
    except ChartBusy:
        await reply(update, context, "trend.busy")
        return
    except Exception:  # a drawing failure or timeout is answered, not left silent
        log.exception("drawing the trend of %s failed", topic.name)
        await reply(update, context, "trend.failed")
        return
    await update.effective_message.reply_photo(
        photo=png, filename=f"trend-{topic.name}.png",
        caption=trend_caption(lang, title, span, zone_name, counts))
