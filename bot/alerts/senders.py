"""Where alerts go: Telegram through python-telegram-bot, or stdout for `run --console`.

A sender's failures are four specific exceptions, so delivery decides what to
do from what happened, not from which library said it.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import Protocol, TextIO

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.alerts.render import strip_html
from bot.telegram.rate_limiter import BULK, retry_after_seconds


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


class SendRejected(SendError):
    """Telegram refused this message for good (e.g. bad request); other messages may pass."""


OnStart = Callable[[], None]


class Sender(Protocol):
    async def send(self, chat_id: int, thread_id: int | None, html: str,
                   on_start: OnStart | None = None) -> int:
        """Send one HTML message; its message id. Raises a SendError.

        `on_start` is called when the message leaves (after waiting its turn): from
        then on it may have reached the chat, whatever happens to this call."""
        ...


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
                   on_start: OnStart | None = None) -> int:
        try:
            message = await self.bot.send_message(
                chat_id=chat_id, text=html, parse_mode=ParseMode.HTML,
                message_thread_id=thread_id, link_preview_options=self.previews,
                **self._limit_args(on_start))
        except RetryAfter as exc:
            raise SendRetryAfter(retry_after_seconds(exc)) from None
        except Forbidden as exc:
            raise ChatGone(exc.message) from None
        except ChatMigrated as exc:
            raise ChatMoved(exc.new_chat_id) from None
        except BadRequest as exc:
            if any(phrase in exc.message.lower() for phrase in _GONE):
                raise ChatGone(exc.message) from None
            raise SendRejected(exc.message) from None
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            raise SendTransient(f"{type(exc).__name__}: {exc.message}") from None
        except TelegramError as exc:
            raise SendTransient(f"{type(exc).__name__}: {exc.message}") from None
        return message.message_id


class ConsoleSender:
    """Prints one plain-text block per alert, for `coverage-bot run --console`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._ids = itertools.count(1)

    async def send(self, chat_id: int, thread_id: int | None, html: str,
                   on_start: OnStart | None = None) -> int:
        if on_start is not None:
            on_start()
        stream = self.stream or sys.stdout
        stream.write(f"{'─' * 60}\n{strip_html(html)}\n\n")
        stream.flush()
        return next(self._ids)
