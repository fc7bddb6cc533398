"""The bot's own membership (`my_chat_member` updates): a chat that blocks, removes or mutes
the bot is deactivated at once, and reactivated when it gives the bot back its rights."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberAdministrator, ChatMemberRestricted, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.store import chats
from bot.telegram.context import services

log = logging.getLogger(__name__)


def can_post(member: ChatMember, chat_type: str) -> bool:
    """Whether the bot, as this member, can send messages to the chat."""
    if member.status in (ChatMember.LEFT, ChatMember.BANNED):
        return False
    if isinstance(member, ChatMemberRestricted):
        return bool(member.can_send_messages)
    if chat_type == ChatType.CHANNEL:  # only an administrator who may post
        return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    return True


async def bot_membership_changed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    changed = update.my_chat_member
    if changed is None:
        return
    chat, ctx = changed.chat, services(context)
    if can_post(changed.new_chat_member, chat.type):
        # Back (or newly added): alerts resume for what the chat still follows.
        await chats.ensure_chat(ctx.db, chat.id, chat.type, chat.title or chat.full_name or "",
                                ctx.config.bot.default_language)
        log.info("chat %s lets the bot post again: active", chat.id)
        return
    reason = f"bot is {changed.new_chat_member.status} in the chat"
    killed = await chats.deactivate_chat(ctx.db, chat.id, reason)
    log.info("chat %s no longer lets the bot post (%s): deactivated, %d queued messages "
             "dropped", chat.id, reason, killed)
