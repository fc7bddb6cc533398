"""Who may change what: bot admins by config, group and channel admins as the Bot API says.

Telegram is the authority on chat membership, so every check asks it at the
moment of the change instead of trusting a cached role.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, ChatMember, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.config import Config

log = logging.getLogger(__name__)

MANAGERS = (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


def is_bot_admin(config: Config, update: Update) -> bool:
    user = update.effective_user
    return user is not None and user.id in config.bot.admins


async def may_manage_chat(bot: Bot, update: Update) -> bool:
    """Private chats manage themselves; in a group only its admins change subscriptions."""
    chat = update.effective_chat
    if chat.type == ChatType.PRIVATE:
        return True
    message = update.message
    sender = message.sender_chat if message is not None else None
    if sender is not None and sender.id == chat.id:
        return True  # an anonymous admin posts as the group itself
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("getChatMember(%s, %s) failed: %s", chat.id, user.id, exc)
        return False
    return member.status in MANAGERS


@dataclass(frozen=True)
class Channel:
    id: int
    title: str
    label: str  # what the user typed, for replies: @name or the numeric id


class ChannelRefused(Exception):
    """The channel form of a command is refused; `key` names the reply in the i18n catalog."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def channel_reference(arg: str) -> str | int | None:
    """`@name` or a numeric chat id (-100…) as the Bot API takes it; None for anything else."""
    if arg.startswith("@") and len(arg) > 1:
        return arg
    if arg.startswith("-") and arg[1:].isdigit():
        return int(arg)
    return None


async def resolve_channel(bot: Bot, arg: str, user_id: int) -> Channel:
    """The channel the user administers and the bot may post in; ChannelRefused otherwise."""
    reference = channel_reference(arg)
    try:
        chat = await bot.get_chat(reference)
    except (BadRequest, Forbidden):
        raise ChannelRefused("channel.not_found", channel=arg) from None
    except TelegramError as exc:
        raise ChannelRefused("channel.check_failed", channel=arg, error=exc.message) from None
    if chat.type != ChatType.CHANNEL:
        raise ChannelRefused("channel.not_channel", channel=arg)
    # The bot's own rights first: without them Telegram may not even show the member list.
    if not await _bot_can_post(bot, chat.id):
        raise ChannelRefused("channel.bot_cannot_post", channel=arg)
    try:
        member = await bot.get_chat_member(chat.id, user_id)
    except (BadRequest, Forbidden):
        raise ChannelRefused("channel.user_not_admin", channel=arg) from None
    except TelegramError as exc:
        raise ChannelRefused("channel.check_failed", channel=arg, error=exc.message) from None
    if member.status not in MANAGERS:
        raise ChannelRefused("channel.user_not_admin", channel=arg)
    return Channel(id=chat.id, title=chat.title or arg, label=arg)


async def _bot_can_post(bot: Bot, chat_id: int) -> bool:
    try:
        me = await bot.get_chat_member(chat_id, bot.id)
    except (BadRequest, Forbidden):
        return False
    if me.status == ChatMember.OWNER:
        return True
    return me.status == ChatMember.ADMINISTRATOR and bool(getattr(me, "can_post_messages", False))
