"""A fake Telegram Bot API server on 127.0.0.1 that python-telegram-bot reaches through base_url.

It records what the bot sends, serves updates a test injects, rejects what
Telegram rejects (bad HTML, over-long texts) and, when asked, answers like
Telegram under load (429 with retry_after), or like a chat that blocked the
bot (403) or vanished (400 "chat not found").

Usage in a test::

    with FakeBotAPI() as api:
        bot = telegram.Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)

Run as a script (``python tests/fakes/bot_api.py --real-limits``) it serves in
its own process, prints ``PORT <n>`` and exposes its counters at GET /_fake/state,
so a benchmark does not share its event loop with the server.
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import itertools
import json
import math
import re
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "coverage_test_bot"
MAX_TEXT = 4096

# ---------------------------------------------------------------- Telegram HTML


class TelegramHTMLError(ValueError):
    """Text Telegram would refuse with "Bad Request: can't parse entities: ..."."""


_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
         "blockquote", "tg-spoiler", "span", "tg-emoji"}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*(/?)>")
_ATTR = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);")


def _entity(match: re.Match, where: int) -> str:
    name = match.group(1)
    if name.startswith(("#x", "#X")):
        code = int(name[2:], 16)
    elif name.startswith("#"):
        code = int(name[1:])
    elif name in _NAMED:
        return _NAMED[name]
    else:
        raise TelegramHTMLError(f"Unsupported HTML entity \"&{name};\" at byte offset {where}")
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise TelegramHTMLError(f"Invalid character reference at byte offset {where}")
    return chr(code)


def _decode(text: str, base: int = 0) -> str:
    """Entities -> characters; a bare '&' or '<' is an error, as Telegram's docs require."""
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                raise TelegramHTMLError(f"Character '&' at byte offset {base + i} "
                                        "is not part of an entity; use &amp;")
            out.append(_entity(m, base + i))
            i = m.end()
        elif ch == "<":
            raise TelegramHTMLError(f"Unexpected '<' at byte offset {base + i}; use &lt;")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _check_attrs(tag: str, attrs: dict[str, str], where: int) -> None:
    if tag == "a" and "href" not in attrs:
        raise TelegramHTMLError(f"Tag \"a\" at byte offset {where} must have attribute href")
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise TelegramHTMLError(f"Tag \"span\" at byte offset {where} must have class tg-spoiler")
    allowed = {"a": {"href"}, "span": {"class"}, "code": {"class"}, "blockquote": {"expandable"},
               "tg-emoji": {"emoji-id"}}.get(tag, set())
    for name in attrs:
        if name not in allowed:
            raise TelegramHTMLError(f"Unsupported attribute \"{name}\" of tag \"{tag}\" "
                                    f"at byte offset {where}")


def parse_telegram_html(text: str) -> str:
    """The plain text Telegram shows for `text` sent with parse_mode=HTML; TelegramHTMLError if refused."""
    plain: list[str] = []
    stack: list[tuple[str, int]] = []
    pos = 0
    while True:
        lt = text.find("<", pos)
        chunk = text[pos:] if lt < 0 else text[pos:lt]
        plain.append(_decode(chunk, pos))
        if lt < 0:
            break
        m = _TAG.match(text, lt)
        if not m:
            raise TelegramHTMLError(f"Unexpected '<' at byte offset {lt}; use &lt;")
        closing, tag, raw_attrs, selfclose = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
        if tag not in _TAGS:
            raise TelegramHTMLError(f"Unsupported start tag \"{tag}\" at byte offset {lt}")
        if selfclose:
            raise TelegramHTMLError(f"Self-closing tag \"{tag}\" at byte offset {lt}")
        if closing:
            if raw_attrs.strip():
                raise TelegramHTMLError(f"End tag \"{tag}\" at byte offset {lt} has attributes")
            if not stack or stack[-1][0] != tag:
                raise TelegramHTMLError(f"Can't find end tag corresponding to start tag "
                                        f"\"{stack[-1][0] if stack else tag}\"")
            stack.pop()
        else:
            attrs = {}
            for am in _ATTR.finditer(raw_attrs):
                value = next((g for g in am.group(2, 3, 4) if g is not None), "")
                attrs[am.group(1).lower()] = _decode(value, lt)
            _check_attrs(tag, attrs, lt)
            stack.append((tag, lt))
        pos = m.end()
    if stack:
        tag, where = stack[-1]
        raise TelegramHTMLError(f"Can't find end tag corresponding to start tag \"{tag}\" "
                                f"at byte offset {where}")
    return "".join(plain)


def telegram_length(plain: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(plain.encode("utf-16-le")) // 2


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class SentMessage:
    chat_id: int | str
    text: str
    parse_mode: str | None
    message_thread_id: int | None
    reply_markup: Any
    message_id: int
    at: float
    method: str = "sendMessage"
    reply_to: int | None = None  # reply_parameters.message_id (or reply_to_message_id)


@dataclass(frozen=True)
class SentDocument:
    chat_id: int | str
    filename: str
    data: bytes
    caption: str | None
    message_id: int
    at: float


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class Limits:
    """Telegram's flood limits; `scale` multiplies every window (0.1 = ten times faster)."""

    enabled: bool = False
    per_chat: tuple[int, float] = (1, 1.0)  # messages, seconds
    per_group: tuple[int, float] = (20, 60.0)  # negative chat ids: groups and channels
    overall: tuple[int, float] = (30, 1.0)
    scale: float = 1.0


@dataclass
class _Failure:
    status: int
    description: str
    remaining: int  # -1: forever
    retry_after: float | None = None
    migrate_to_chat_id: int | None = None


_INT_PARAMS = {"chat_id", "user_id", "message_id", "message_thread_id", "offset", "limit",
               "timeout", "from_chat_id", "reply_to_message_id"}
_JSON_PARAMS = {"reply_markup", "commands", "allowed_updates", "scope", "link_preview_options",
                "entities", "reply_parameters"}


def _coerce(params: dict[str, Any]) -> dict[str, Any]:
    """PTB sends each value JSON-encoded except strings; give them their types back."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _INT_PARAMS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in _JSON_PARAMS or value in ("true", "false"):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
        out[key] = value
    return out


# ---------------------------------------------------------------- the server


class FakeBotAPI:
    """The fake server and its recorded, thread-safe state."""

    def __init__(self, token: str = TOKEN, limits: Limits | None = None) -> None:
        self.token = token
        self.limits = limits or Limits()
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict] = []
        self._message_ids: dict[Any, itertools.count] = defaultdict(lambda: itertools.count(1))
        self.messages: list[SentMessage] = []
        self.documents: list[SentDocument] = []
        self.photos: list[SentDocument] = []
        self.edits: list[Call] = []
        # What each chat shows now: (chat id, message id) -> text; edits and deletes change it.
        self.live: dict[tuple[Any, int], str] = {}
        self._markups: dict[tuple[Any, int], Any] = {}
        self._deleted: set[tuple[Any, int]] = set()
        self.callback_answers: list[Call] = []
        self.calls: list[Call] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.count_429 = 0
        self.latency = 0.0  # seconds between accepting a message and answering
        self._chats: dict[Any, dict] = {}
        self._members: dict[tuple[Any, int], dict] = {}
        self._files: dict[str, bytes] = {}
        self._failures: dict[Any, _Failure] = {}
        self._method_failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._history: dict[Any, deque[float]] = defaultdict(deque)
        self._overall: deque[float] = deque()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closing = False

    # ---- lifecycle

    def start(self, port: int = 0) -> FakeBotAPI:
        api = self

        class Handler(_Handler):
            fake = api

        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        # A short poll interval: stop() waits for it, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeBotAPI:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- the world the bot lives in

    def add_chat(self, chat_id: int, type: str = "private", title: str = "",
                 username: str | None = None, is_forum: bool = False) -> None:
        """Make a chat known to getChat (and by @username)."""
        chat = {"id": chat_id, "type": type}
        if type == "private":
            chat["first_name"] = title or f"User{chat_id}"
        else:
            chat["title"] = title or f"Chat {chat_id}"
        if username:
            chat["username"] = username.lstrip("@")
        if is_forum:
            chat["is_forum"] = True
        with self._lock:
            self._chats[chat_id] = chat
            if username:
                self._chats["@" + username.lstrip("@")] = chat

    def set_member(self, chat_id: int | str, user_id: int, status: str, **rights: bool) -> None:
        """getChatMember(chat_id, user_id) answers `status` (creator, administrator, member,
        restricted, left, kicked); `rights` override administrator flags such as can_post_messages."""
        with self._lock:
            self._members[(chat_id, user_id)] = {"status": status, **rights}

    def add_file(self, file_id: str, data: bytes) -> None:
        """A document the bot may getFile and download."""
        with self._lock:
            self._files[file_id] = data

    def block(self, chat_id: int) -> None:
        """Every send to this chat fails with 403 "bot was blocked by the user"."""
        self.fail_chat(chat_id, 403, "Forbidden: bot was blocked by the user")

    def forget_chat(self, chat_id: int) -> None:
        """Every send to this chat fails with 400 "chat not found"."""
        self.fail_chat(chat_id, 400, "Bad Request: chat not found")

    def fail_chat(self, chat_id: int | str, status: int, description: str, times: int = -1,
                  retry_after: float | None = None) -> None:
        """Sends to `chat_id` fail `times` times (-1: always) with this status."""
        with self._lock:
            self._failures[chat_id] = _Failure(status, description, times, retry_after)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: sends to the old id answer with the new one."""
        self.add_chat(new_chat_id, "supergroup")
        with self._lock:
            self._failures[chat_id] = _Failure(
                400, "Bad Request: group chat was upgraded to a supergroup chat", -1,
                migrate_to_chat_id=new_chat_id)

    def fail_next(self, method: str, status: int = 500,
                  description: str = "Internal Server Error", times: int = 1,
                  retry_after: float | None = None) -> None:
        """The next `times` calls of `method` fail with this status (e.g. 500, 502, 429)."""
        with self._lock:
            for _ in range(times):
                self._method_failures[method].append(_Failure(status, description, 1, retry_after))

    def delete_message(self, chat_id: int | str, message_id: int) -> None:
        """A user or admin deleted one of the bot's messages: edits of it fail from now on."""
        with self._lock:
            self.live.pop((chat_id, message_id), None)
            self._deleted.add((chat_id, message_id))

    def text_of(self, chat_id: int | str, message_id: int) -> str | None:
        """The message's current (parsed) text, after its edits; None once deleted."""
        with self._lock:
            return self.live.get((chat_id, message_id))

    def edits_of(self, chat_id: int | str) -> list[Call]:
        """editMessageText calls that changed a message of this chat."""
        with self._lock:
            return [c for c in self.edits if c.params.get("chat_id") == chat_id
                    and c.method == "editMessageText"]

    def replies_to(self, chat_id: int | str, message_id: int) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.messages if m.chat_id == chat_id and m.reply_to == message_id]

    def heal(self, chat_id: int | str | None = None) -> None:
        """Forget configured failures (of one chat, or all)."""
        with self._lock:
            if chat_id is None:
                self._failures.clear()
                self._method_failures.clear()
            else:
                self._failures.pop(chat_id, None)

    # ---- updates the bot will receive

    def _user(self, user_id: int, language_code: str | None = None) -> dict:
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        if language_code:
            user["language_code"] = language_code
        return user

    def _chat_dict(self, chat_id: int, chat_type: str, chat_title: str | None) -> dict:
        with self._lock:
            known = self._chats.get(chat_id)
        if known:
            return dict(known)
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = chat_title or f"User{chat_id}"
        else:
            chat["title"] = chat_title or f"Chat {chat_id}"
        return chat

    def _push(self, kind: str, payload: dict) -> dict:
        with self._lock:
            update = {"update_id": next(self._update_ids), kind: payload}
            self._updates.append(update)
            self._lock.notify_all()
        return update

    def inject_message(self, chat_id: int, chat_type: str = "private", user_id: int | None = None,
                       text: str = "", thread_id: int | None = None,
                       chat_title: str | None = None, language_code: str | None = None,
                       document: dict | None = None, caption: str | None = None,
                       reply_to: int | None = None) -> dict:
        """Queue a message for getUpdates, as `user_id` in that chat (a reply to the bot's
        message `reply_to`, if given); returns the update."""
        user_id = chat_id if user_id is None else user_id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": self._chat_dict(chat_id, chat_type, chat_title),
        }
        if chat_type != "channel":
            message["from"] = self._user(user_id, language_code)
        body_key = "text"
        if document is not None:
            message["document"] = document
            body_key = "caption"
            text = caption if caption is not None else text
        if text:
            message[body_key] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities" if body_key == "text" else "caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(command)}]
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            message["chat"]["is_forum"] = True
        if reply_to is not None:
            with self._lock:
                shown = self.live.get((chat_id, reply_to), "")
            message["reply_to_message"] = {
                "message_id": reply_to, "date": int(time.time()), "chat": message["chat"],
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Coverage",
                         "username": BOT_USERNAME}, "text": shown}
        return self._push("channel_post" if chat_type == "channel" else "message", message)

    def inject_my_chat_member(self, chat_id: int, chat_type: str, old: str, new: str,
                              **rights: bool) -> dict:
        """Queue a change of the bot's own membership in a chat (`old` and `new` are
        statuses: member, administrator, restricted, left, kicked; `rights` go with `new`)."""
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "Coverage", "username": BOT_USERNAME}

        def member(status: str, extra: dict) -> dict:
            fields = {"status": status, "user": bot}
            if status == "administrator":
                fields |= {"can_be_edited": False, "is_anonymous": False,
                           "can_manage_chat": True, "can_delete_messages": False,
                           "can_manage_video_chats": False, "can_restrict_members": False,
                           "can_promote_members": False, "can_change_info": False,
                           "can_invite_users": False, "can_post_stories": False,
                           "can_edit_stories": False, "can_delete_stories": False}
            if status == "restricted":
                fields |= {"is_member": True, "can_send_messages": False, "until_date": 0}
            if status == "kicked":
                fields |= {"until_date": 0}
            return fields | extra

        return self._push("my_chat_member", {
            "chat": self._chat_dict(chat_id, chat_type, None), "from": self._user(1),
            "date": int(time.time()), "old_chat_member": member(old, {}),
            "new_chat_member": member(new, rights)})

    def inject_document(self, chat_id: int, chat_type: str, user_id: int, file_id: str,
                        data: bytes, file_name: str = "feeds.opml", caption: str = "",
                        mime_type: str = "text/x-opml") -> dict:
        """Queue a document message (e.g. an OPML file with caption "/import fr")."""
        self.add_file(file_id, data)
        document = {"file_id": file_id, "file_unique_id": "u" + file_id, "file_name": file_name,
                    "mime_type": mime_type, "file_size": len(data)}
        return self.inject_message(chat_id, chat_type, user_id, document=document,
                                   caption=caption)

    def inject_callback(self, chat_id: int, user_id: int, data: str, message_id: int,
                        chat_type: str | None = None) -> dict:
        """Queue a button press on the bot's message `message_id` in that chat."""
        chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
        original = {"message_id": message_id, "date": int(time.time()),
                    "chat": self._chat_dict(chat_id, chat_type, None),
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "Coverage",
                             "username": BOT_USERNAME}, "text": ""}
        with self._lock:
            for sent in reversed(self.messages):
                if sent.chat_id == chat_id and sent.message_id == message_id:
                    original["text"] = sent.text
                    if sent.reply_markup:
                        original["reply_markup"] = sent.reply_markup
                    break
        query = {"id": str(next(self._ids)), "from": self._user(user_id),
                 "chat_instance": f"ci{chat_id}", "data": data, "message": original}
        return self._push("callback_query", query)

    # ---- what the bot did

    def sent_to(self, chat_id: int | str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.messages if m.chat_id == chat_id]

    def texts_to(self, chat_id: int | str) -> list[str]:
        return [m.text for m in self.sent_to(chat_id)]

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        """Block until predicate(self) is true (checked on every request) or timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    def snapshot(self) -> dict:
        """Counters for a benchmark running the fake in another process."""
        with self._lock:
            per_chat: dict[str, int] = defaultdict(int)
            for m in self.messages:
                per_chat[str(m.chat_id)] += 1
            edits: dict[str, int] = defaultdict(int)
            for c in self.edits:
                edits[str(c.params.get("chat_id"))] += 1
            return {"messages": len(self.messages), "count_429": self.count_429,
                    "per_chat": per_chat, "edits": len(self.edits), "edits_per_chat": edits,
                    "replies": sum(1 for m in self.messages if m.reply_to is not None),
                    "replies_per_chat": _count(str(m.chat_id) for m in self.messages
                                               if m.reply_to is not None),
                    "shown": {f"{chat}:{mid}": text for (chat, mid), text in self.live.items()},
                    "sends": [(m.chat_id, m.at) for m in self.messages],
                    "first_at": self.messages[0].at if self.messages else None,
                    "last_at": self.messages[-1].at if self.messages else None}

    # ---- request handling (server threads)

    def _flood_wait(self, chat_id: Any, now: float) -> float | None:
        """Seconds to wait if this send would break a limit, else None (and count it)."""
        lim = self.limits
        if not lim.enabled:
            return None
        checks = [(self._overall, lim.overall)]
        if isinstance(chat_id, int):
            checks.append((self._history[chat_id], lim.per_chat))
            if chat_id < 0:
                checks.append((self._history[("group", chat_id)], lim.per_group))
        wait = 0.0
        for history, (count, window) in checks:
            window *= lim.scale
            while history and history[0] <= now - window:
                history.popleft()
            if len(history) >= count:
                wait = max(wait, history[0] + window - now)
        if wait > 0:
            return wait
        for history, _ in checks:
            history.append(now)
        return None

    def _take_failure(self, method: str, chat_id: Any) -> _Failure | None:
        queue = self._method_failures.get(method)
        if queue:
            return queue.popleft()
        failure = self._failures.get(chat_id)
        if failure and failure.remaining != 0:
            if failure.remaining > 0:
                failure.remaining -= 1
            return failure
        return None

    def handle(self, method: str, params: dict[str, Any],
               files: dict[str, tuple[str, bytes]]) -> tuple[int, dict]:
        """One API call -> (HTTP status, JSON body)."""
        now = time.time()
        chat_id = params.get("chat_id")
        with self._lock:
            self.calls.append(Call(method, params, now))
            self._lock.notify_all()
            # Edits count against the same limits as sends.
            sending = method in ("sendMessage", "sendDocument", "sendPhoto", "editMessageText")
            failure = self._take_failure(method, chat_id if sending else None)
            if failure:
                if failure.status == 429:
                    self.count_429 += 1
                return _error(failure.status, failure.description, failure.retry_after,
                              failure.migrate_to_chat_id)
            if sending and chat_id in self._members_blocked():
                return _error(403, "Forbidden: bot was kicked from the group chat")
            if sending:
                wait = self._flood_wait(chat_id, now)
                if wait is not None:
                    self.count_429 += 1
                    retry = max(1, math.ceil(wait)) if self.limits.scale >= 1 else round(wait, 3)
                    return _error(429, f"Too Many Requests: retry after {retry}", retry)
        handler = getattr(self, "_api_" + method, None)
        if handler is None:
            return 200, {"ok": True, "result": True}
        answer = handler(params, files)
        if sending and self.latency:
            # Accepted (recorded) now, answered later: a client killed meanwhile never
            # learns that its message went out.
            time.sleep(self.latency)
        return answer

    def _members_blocked(self) -> set:
        return {chat for (chat, user), m in self._members.items()
                if user == BOT_ID and m["status"] in ("left", "kicked")}

    def _message(self, chat_id: Any, **extra: Any) -> dict:
        with self._lock:
            chat = dict(self._chats.get(chat_id) or {})
        if not chat:
            if isinstance(chat_id, int):
                kind = ("private" if chat_id > 0 else
                        "supergroup" if chat_id < -1_000_000_000_000 else "group")
            else:
                kind = "channel"
            chat = self._chat_dict(chat_id, kind, None) if isinstance(chat_id, int) else \
                {"id": -1, "type": "channel", "title": str(chat_id)}
        return {"message_id": next(self._message_ids[chat_id]), "date": int(time.time()),
                "chat": chat, "from": {"id": BOT_ID, "is_bot": True, "first_name": "Coverage",
                                       "username": BOT_USERNAME}, **extra}

    def _api_getMe(self, params, files):
        return _ok({"id": BOT_ID, "is_bot": True, "first_name": "Coverage",
                    "username": BOT_USERNAME, "can_join_groups": True,
                    "can_read_all_group_messages": False, "supports_inline_queries": False})

    def _api_getUpdates(self, params, files):
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 30)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        with self._lock:
            while True:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if allowed:  # as Telegram: kinds the bot did not ask for never reach it
                    self._updates = [u for u in self._updates
                                     if any(kind in u for kind in allowed)]
                if self._updates or self._closing:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return _ok(self._updates[:limit])

    def _api_sendMessage(self, params, files):
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        plain = text
        if parse_mode and str(parse_mode).upper() == "HTML":
            try:
                plain = parse_telegram_html(text)
            except TelegramHTMLError as exc:
                return _error(400, f"Bad Request: can't parse entities: {exc}")
        if not plain.strip():
            return _error(400, "Bad Request: message text is empty")
        if telegram_length(plain) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        chat_id = params["chat_id"]
        thread = params.get("message_thread_id")
        message = self._message(chat_id, text=plain)
        if thread is not None:
            message["message_thread_id"] = thread
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") or params.get("reply_to_message_id")
        if reply_to is not None:
            with self._lock:
                missing = (chat_id, reply_to) in self._deleted
            if missing and not reply.get("allow_sending_without_reply"):
                return _error(400, "Bad Request: message to be replied not found")
            if not missing:
                message["reply_to_message"] = self._message(chat_id, text="")
                message["reply_to_message"]["message_id"] = reply_to
        with self._lock:
            self.messages.append(SentMessage(chat_id, text, parse_mode, thread,
                                             params.get("reply_markup"), message["message_id"],
                                             time.time(), reply_to=reply_to))
            self.live[(chat_id, message["message_id"])] = plain
            self._markups[(chat_id, message["message_id"])] = params.get("reply_markup")
            self._lock.notify_all()
        return _ok(message)

    def _api_sendDocument(self, params, files):
        chat_id = params["chat_id"]
        name, data = files.get("document", ("document", b""))
        message = self._message(chat_id, document={
            "file_id": f"doc{next(self._ids)}", "file_unique_id": f"udoc{next(self._ids)}",
            "file_name": name, "file_size": len(data)})
        with self._lock:
            self.documents.append(SentDocument(chat_id, name, data, params.get("caption"),
                                               message["message_id"], time.time()))
            self._lock.notify_all()
        return _ok(message)

    def _api_sendPhoto(self, params, files):
        chat_id = params["chat_id"]
        name, data = files.get("photo", ("photo", b""))
        if not data:
            return _error(400, "Bad Request: there is no photo in the request")
        message = self._message(chat_id, photo=[{
            "file_id": f"photo{next(self._ids)}", "file_unique_id": f"uphoto{next(self._ids)}",
            "width": 1, "height": 1, "file_size": len(data)}])
        with self._lock:
            self.photos.append(SentDocument(chat_id, name, data, params.get("caption"),
                                            message["message_id"], time.time()))
            self._lock.notify_all()
        return _ok(message)

    def _api_editMessageText(self, params, files):
        text = str(params.get("text", ""))
        if str(params.get("parse_mode") or "").upper() == "HTML":
            try:
                text = parse_telegram_html(text)
            except TelegramHTMLError as exc:
                return _error(400, f"Bad Request: can't parse entities: {exc}")
        if telegram_length(text) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        key = (params.get("chat_id"), params.get("message_id"))
        with self._lock:
            if "inline_message_id" not in params:
                if key not in self.live:
                    return _error(400, "Bad Request: message to edit not found")
                if (self.live[key], self._markups.get(key)) == (text, params.get("reply_markup")):
                    return _error(400, "Bad Request: message is not modified: specified new "
                                       "message content and reply markup are exactly the same "
                                       "as a current content and reply markup of the message")
                self.live[key] = text
                self._markups[key] = params.get("reply_markup")
        return self._edit(params, text=text, method="editMessageText")

    def _api_editMessageReplyMarkup(self, params, files):
        return self._edit(params)

    def _edit(self, params, method: str = "edit", **extra):
        with self._lock:
            self.edits.append(Call(method, params, time.time()))
            self._lock.notify_all()
        if "inline_message_id" in params:
            return _ok(True)
        message = self._message(params.get("chat_id"), **extra)
        message["message_id"] = params.get("message_id")
        message["edit_date"] = int(time.time())
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return _ok(message)

    def _api_answerCallbackQuery(self, params, files):
        with self._lock:
            self.callback_answers.append(Call("answerCallbackQuery", params, time.time()))
        return _ok(True)

    def _api_setMyCommands(self, params, files):
        key = (params.get("language_code") or "", json.dumps(params.get("scope") or {}))
        with self._lock:
            self.commands[key] = params.get("commands") or []
        return _ok(True)

    def commands_for(self, language_code: str = "") -> list[dict]:
        """The command list last set for this language (default scope)."""
        with self._lock:
            for (lang, _scope), commands in self.commands.items():
                if lang == language_code:
                    return commands
        return []

    def _api_getMyCommands(self, params, files):
        return _ok(self.commands_for(params.get("language_code") or ""))

    def _api_getChat(self, params, files):
        chat_id = params.get("chat_id")
        with self._lock:
            chat = self._chats.get(chat_id)
        if chat is None:
            return _error(400, "Bad Request: chat not found")
        return _ok({**chat, "accent_color_id": 0, "max_reaction_count": 11,
                    "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                            "unique_gifts": False, "premium_subscription": False,
                                            "gifts_from_channels": False}})

    def _api_getChatMember(self, params, files):
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        with self._lock:
            if isinstance(chat_id, str) and chat_id not in self._chats:
                return _error(400, "Bad Request: chat not found")
            member = dict(self._members.get((chat_id, user_id)) or {})
            known = self._chats.get(chat_id)
        if not member:
            if known is None and isinstance(chat_id, int) and chat_id < 0 and \
                    not any(c == chat_id for c, _ in self._members):
                return _error(400, "Bad Request: chat not found")
            member = {"status": "member" if (known or {}).get("type") != "channel" else "left"}
        status = member.pop("status")
        if user_id == BOT_ID:
            user = {"id": BOT_ID, "is_bot": True, "first_name": "Coverage",
                    "username": BOT_USERNAME}
        else:
            user = self._user(int(user_id))
        result: dict[str, Any] = {"user": user, "status": status}
        if status == "creator":
            result["is_anonymous"] = False
        elif status == "administrator":
            rights = {"can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
                      "can_delete_messages": True, "can_manage_video_chats": True,
                      "can_restrict_members": True, "can_promote_members": False,
                      "can_change_info": True, "can_invite_users": True,
                      "can_post_stories": False, "can_edit_stories": False,
                      "can_delete_stories": False, "can_post_messages": True,
                      "can_edit_messages": True, "can_pin_messages": True}
            rights.update(member)
            result.update(rights)
        elif status == "restricted":
            flags = ("can_change_info can_invite_users can_pin_messages can_send_messages "
                     "can_send_polls can_send_other_messages can_add_web_page_previews "
                     "can_manage_topics can_send_audios can_send_documents can_send_photos "
                     "can_send_videos can_send_video_notes can_send_voice_notes can_edit_tag")
            result.update({name: member.get(name, False) for name in flags.split()})
            result.update(is_member=True, until_date=0)
        elif status == "kicked":
            result["until_date"] = 0
        return _ok(result)

    def _api_getFile(self, params, files):
        file_id = str(params.get("file_id"))
        with self._lock:
            data = self._files.get(file_id)
        if data is None:
            return _error(400, "Bad Request: invalid file_id")
        return _ok({"file_id": file_id, "file_unique_id": "u" + file_id,
                    "file_size": len(data), "file_path": f"documents/{file_id}"})

    def file_bytes(self, path: str) -> bytes | None:
        file_id = path.rsplit("/", 1)[-1]
        with self._lock:
            return self._files.get(file_id)


def _count(keys) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for key in keys:
        counts[key] += 1
    return counts


def _ok(result: Any) -> tuple[int, dict]:
    return 200, {"ok": True, "result": result}


def _error(status: int, description: str, retry_after: float | None = None,
           migrate_to_chat_id: int | None = None) -> tuple[int, dict]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    if migrate_to_chat_id is not None:
        body["parameters"] = {"migrate_to_chat_id": migrate_to_chat_id}
    return status, body


class _Server(ThreadingHTTPServer):
    """Quiet about clients that hang up: a bot shutting down or killed mid-request closes
    its kept-alive connections (often mid-read of a long poll), as Telegram's clients do."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset, broken pipe, aborted
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API, for PTB's httpx pool
    # Headers and body go out in two writes; without this, Nagle plus delayed ACK adds
    # ~40 ms to every call on a kept-alive connection.
    disable_nagle_algorithm = True
    fake: FakeBotAPI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except ConnectionError:
            pass  # the client is gone (killed mid-request); what it sent is recorded

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)  # PTB percent-encodes the token's ':'
        prefix = f"/file/bot{self.fake.token}/"
        if path.startswith(prefix):
            data = self.fake.file_bytes(path[len(prefix):])
            if data is None:
                self._reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            else:
                self._reply(200, data, "application/octet-stream")
        elif path == "/_fake/state":
            self._reply(200, json.dumps(self.fake.snapshot()).encode())
        else:
            self.do_POST()

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        prefix = f"/bot{self.fake.token}/"
        url = url._replace(path=unquote(url.path))
        if not url.path.startswith(prefix) and url.path != "/_fake/inject":
            # What Telegram answers a token it does not know.
            self._reply(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
            return
        method = url.path[len(prefix):]
        params, files = _parse_body(self.headers.get("Content-Type") or "", raw)
        if url.path == "/_fake/inject":  # a benchmark in another process types a message
            self._reply(200, json.dumps(self.fake.inject_message(**params)).encode())
            return
        params.update(dict(parse_qsl(url.query)))
        try:
            status, body = self.fake.handle(method, _coerce(params), files)
        except Exception as exc:  # a fake bug must show up as a 500, not a hung client
            status, body = _error(500, f"Internal Server Error: fake failed: {exc!r}")
        self._reply(status, json.dumps(body).encode())


def _parse_body(content_type: str, raw: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    if not raw:
        return {}, {}
    if content_type.startswith("application/json"):
        return json.loads(raw), {}
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                files[name] = (filename, payload)
            else:
                params[name] = payload.decode("utf-8")
        # PTB names the part "document" but attaches it via attach://; keep both names.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                part_name = value[len("attach://"):]
                if part_name in files:
                    files[key] = files[part_name]
        return params, files
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)), {}


def main(argv: list[str] | None = None) -> None:
    """Serve in this process until killed; prints 'PORT <n>' once listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--real-limits", action="store_true", help="enforce Telegram's limits")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds between accepting a message and answering")
    args = parser.parse_args(argv)
    api = FakeBotAPI(limits=Limits(enabled=args.real_limits, scale=args.scale))
    api.latency = args.latency
    api.start(args.port)
    print(f"PORT {api.port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
