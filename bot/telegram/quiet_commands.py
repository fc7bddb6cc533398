"""/quiet HH:MM-HH:MM | off: the daily window, in the chat's time zone, when messages
arrive without a notification sound (nothing is held back)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.alerts.quiet import parse_quiet
from bot.store import chats
from bot.telegram.commands import _split_channel, _target
from bot.telegram.context import reply, services, timezone_of


async def quiet_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    words, channels = _split_channel(context.args)
    db = services(context).db
    if not words and not channels:
        window = await chats.chat_quiet(db, update.effective_chat.id)
        zone = await timezone_of(context, update.effective_chat.id)
        if window:
            await reply(update, context, "quiet.current", window=window, timezone=zone)
        else:
            await reply(update, context, "quiet.none")
        return
    if not words or len(channels) > 1:
        await reply(update, context, "quiet.usage")
        return
    window = None
    if [word.lower() for word in words] != ["off"]:
        try:  # "22:00-07:00" or "22:00 - 07:00"
            window = str(parse_quiet(" ".join(words)))
        except ValueError:
            await reply(update, context, "quiet.usage")
            return
    target = await _target(update, context, channels)
    if target is None:
        return
    await chats.set_quiet(db, target.chat_id, window)
    zone = await timezone_of(context, target.chat_id)
    suffix = "_channel" if target.channel else ""
    key = f"quiet.set{suffix}" if window else f"quiet.off{suffix}"
    await reply(update, context, key, window=window, timezone=zone, channel=target.channel)
