"""Where alerts go: Telegram through python-telegram-bot, or stdout for `run --console`.

A sender's failures are a few specific exceptions (`_send_error` is the one map of
Telegram's answers), so delivery decides what to do from what happened, not from
which library said it.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import Protocol, TextIO

import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.alerts.render import console_text
from bot.bot_api import BULK, retry_after_seconds


class SendError(Exception):
    """A send did not happen; `reason` is one line for the log and the outbox row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendRetryAfter(SendError):
    """Flood control: nothing may be sent for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry after {seconds:g}s")
        self.seconds = seconds


class ChatGone(SendError):
    """The chat blocked the bot, removed it, or no longer exists."""


class ChatMoved(SendError):
    """A group became a supergroup: its alerts belong to `new_chat_id` now."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"group became supergroup {new_chat_id}")
        self.new_chat_id = new_chat_id


class SendTransient(SendError):
    """Network trouble or a server error: the same send may work later."""


class SendUnsure(SendTransient):
    """The request left and no answer came (timed out): Telegram may have the message.
    Sending it again may repeat it, so it is sent again once at most."""


class ThreadGone(SendError):
    """The forum thread the message was for was deleted; the chat is fine."""


class SendRejected(SendError):
    """Telegram refused this message for good (e.g. bad request); other messages may pass."""


class EditImpossible(SendError):
    """The message cannot be edited (deleted, too old, too long); a reply can say it instead."""


OnStart = Callable[[], None]
Buttons = tuple[tuple[str, str], ...]  # (label, callback data), one button per row


class Sender(Protocol):
    async def send(self, chat_id: int, thread_id: int | None, html: str,
                   on_start: OnStart | None = None, *, buttons: Buttons = (),
                   reply_to: int | None = None, silent: bool = False) -> int:
        """Send one HTML message (a reply to `reply_to`, if given; without a
        notification sound if `silent`); its message id. Raises a SendError.

        `on_start` is called when the message leaves (after waiting its turn): from
        then on it may have reached the chat, whatever happens to this call."""
        ...

    async def edit(self, chat_id: int, message_id: int, html: str,
                   on_start: OnStart | None = None, *, buttons: Buttons = ()) -> None:
        """Redraw a message silently; EditImpossible when it cannot be. An edit that
        changes nothing succeeds."""
        ...


# Bad requests that mean this message cannot be edited, but the chat is fine.
_NOT_EDITABLE = ("message to edit not found", "message can't be edited", "message_id_invalid",
                 "message is too long", "message can not be edited")


# Bad requests that mean the chat is unreachable for good, not that one message is wrong.
_GONE = ("chat not found", "user is deactivated", "bot was kicked", "bot is not a member",
         "have no rights to send", "not enough rights to send", "need administrator rights",
         "chat_write_forbidden", "peer_id_invalid", "group chat was deactivated",
         "bot was blocked", "chat is deactivated")


class TelegramSender:
    """Sends through a python-telegram-bot Bot; PTB's errors become SendErrors.

    With the bot's budget rate limiter (`bot.telegram.rate_limiter`) each send
    waits its turn there, behind replies, and flood control or a network error
    comes back here at once: the deliverer keeps the retry state in the outbox.
    """

    def __init__(self, bot: Bot, disable_previews: bool = True) -> None:
        self.bot = bot
        self.previews = LinkPreviewOptions(is_disabled=True) if disable_previews else None

    def _limit_args(self, on_start: OnStart | None) -> dict:
        if getattr(self.bot, "rate_limiter", None) is None:
            if on_start is not None:
                on_start()
            return {}
        return {"rate_limit_args": {"retry": False, "priority": BULK, "on_start": on_start}}

    async def send(self, chat_id: int, thread_id: int | None, html: str,
                   on_start: OnStart | None = None, *, buttons: Buttons = (),
                   reply_to: int | None = None, silent: bool = False) -> int:
        reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                 if reply_to is not None else None)
        try:
            message = await self.bot.send_message(
                chat_id=chat_id, text=html, parse_mode=ParseMode.HTML,
                message_thread_id=thread_id, link_preview_options=self.previews,
                reply_markup=_keyboard(buttons), reply_parameters=reply,
                disable_notification=silent or None, **self._limit_args(on_start))
        except TelegramError as exc:
            raise _send_error(exc) from None
        return message.message_id

    async def edit(self, chat_id: int, message_id: int, html: str,
                   on_start: OnStart | None = None, *, buttons: Buttons = ()) -> None:
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id, message_id=message_id, text=html, parse_mode=ParseMode.HTML,
                link_preview_options=self.previews, reply_markup=_keyboard(buttons),
                **self._limit_args(on_start))
        except BadRequest as exc:
            text = exc.message.lower()
            if "not modified" in text:
                return  # it already shows this coverage
            if any(phrase in text for phrase in _NOT_EDITABLE):
                raise EditImpossible(exc.message) from None
            raise _send_error(exc) from None
        except TelegramError as exc:
            raise _send_error(exc) from None


def _keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]
                                 for label, data in buttons])


def _send_error(exc: TelegramError) -> SendError:
    """PTB's error as the SendError delivery decides from: the one map of Telegram's
    answers for everything the bot sends on its own."""
    if isinstance(exc, RetryAfter):
        return SendRetryAfter(retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return ChatGone(exc.message)
    if isinstance(exc, ChatMigrated):
        return ChatMoved(exc.new_chat_id)
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if "thread not found" in text or "topic_deleted" in text:
            return ThreadGone(exc.message)
        if any(phrase in text for phrase in _GONE):
            return ChatGone(exc.message)
        return SendRejected(exc.message)  # too long, bad HTML, ...: this message only
    reason = f"{type(exc).__name__}: {exc.message}"
    if isinstance(exc, TimedOut) and _may_have_arrived(exc):
        return SendUnsure(reason)
    # NetworkError (refused connections, 5xx answers) and anything else: not delivered,
    # the same call may work later
    return SendTransient(reason)


def _may_have_arrived(exc: TimedOut) -> bool:
    """A timeout while connecting or waiting for a pooled connection sent nothing; one
    while writing or reading the answer may have delivered the message."""
    cause = exc.__cause__
    return not isinstance(cause, (httpx.ConnectTimeout, httpx.PoolTimeout)) and \
        "pool timeout" not in exc.message.lower()


CONSOLE_SHOWN = 1000  # printed blocks whose text an identical redraw is checked against


class ConsoleSender:
    """Prints one plain-text block per alert, for `coverage-bot run --console`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._ids = itertools.count(1)
        self._shown: dict[int, str] = {}  # message id -> what was printed for it last

    async def send(self, chat_id: int, thread_id: int | None, html: str,
                   on_start: OnStart | None = None, *, buttons: Buttons = (),
                   reply_to: int | None = None, silent: bool = False) -> int:
        message_id = self._print(html, on_start)
        self._remember(message_id, html)
        return message_id

    async def edit(self, chat_id: int, message_id: int, html: str,
                   on_start: OnStart | None = None, *, buttons: Buttons = ()) -> None:
        # A terminal cannot redraw a printed block: the story's new coverage is printed,
        # unless it is what the block already shows (an edit coalesced into the send).
        if self._shown.get(message_id) == html:
            if on_start is not None:
                on_start()
            return
        self._print(html, on_start)
        self._remember(message_id, html)

    def _remember(self, message_id: int, html: str) -> None:
        self._shown[message_id] = html
        if len(self._shown) > CONSOLE_SHOWN:  # a long run: the oldest blocks are forgotten
            del self._shown[next(iter(self._shown))]

    def _print(self, html: str, on_start: OnStart | None) -> int:
        if on_start is not None:
            on_start()
        stream = self.stream or sys.stdout
        stream.write(f"{'─' * 60}\n{console_text(html)}\n\n")
        stream.flush()
        return next(self._ids)
