"""Commands for everyone: /start /help /topics (+ its buttons) /subscribe /unsubscribe
/mysubs /language /recent, their @channel forms, and the answer to unknown commands."""

from __future__ import annotations

import asyncio
import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.config import time_zone_named
from bot.i18n import t
from bot.message_text import clean, shorten
from bot.model import LANGUAGES, Topic
from bot.shown_time import format_time
from bot.store import chats, stories, topics
from bot.telegram.access import (
    ChannelRefused,
    channel_reference,
    is_bot_admin,
    may_manage_chat,
    resolve_channel,
)
from bot.telegram.arguments import positive_int
from bot.telegram.context import language_of, reply, reply_text, services, timezone_of
from bot.topics.personal import PERSONAL_LIMIT
from bot.translation.titles import title_in

RECENT_DEFAULT = 5
RECENT_MAX = 20
RECENT_TITLE_LENGTH = 300
# A page of /topics: one button per topic and a row to turn pages stay under Telegram's
# 100 buttons, and the lines, each cut to LINE_MAX, under its 4,096 units.
TOPICS_PER_PAGE = 20
LINE_MAX = 180
# sub:TOPIC_ID:PAGE (no page on buttons drawn before pages existed); topics:PAGE turns.
CALLBACK_PATTERN = r"^(sub|unsub):\d+(:\d+)?$"
PAGE_PATTERN = r"^topics:\d+$"
NAMES_LISTED = 30  # names of topics in one line of an answer; the rest are counted


@dataclass(frozen=True)
class Target:
    """The chat a command changes: this chat, or a channel named in a private chat."""

    chat_id: int
    channel: str | None = None  # label for replies when it is a channel


def _split_channel(args: list[str]) -> tuple[list[str], list[str]]:
    """(other arguments, channel references): `@name` or -100… ids name a channel."""
    channels = [arg for arg in args if channel_reference(arg) is not None]
    return [arg for arg in args if arg not in channels], channels


async def _target(update: Update, context: ContextTypes.DEFAULT_TYPE,
                  channels: list[str]) -> Target | None:
    """The chat to change, after the permission checks; None once a refusal was sent."""
    ctx = services(context)
    chat = update.effective_chat
    if channels:
        if chat.type != ChatType.PRIVATE:
            await reply(update, context, "channel.private_only")
            return None
        try:
            channel = await resolve_channel(context.bot, channels[0], update.effective_user.id)
        except ChannelRefused as refusal:
            await reply(update, context, refusal.key, **refusal.values)
            return None
        await chats.ensure_chat(ctx.db, channel.id, ChatType.CHANNEL, channel.title,
                                ctx.config.bot.default_language)
        return Target(channel.id, channel.label)
    if not await may_manage_chat(context.bot, update):
        await reply(update, context, "error.group_admins_only")
        return None
    await _ensure_this_chat(update, context)
    return Target(chat.id)


async def _ensure_this_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = services(context)
    chat = update.effective_chat
    title = chat.title or chat.username or chat.full_name or ""
    await chats.ensure_chat(ctx.db, chat.id, chat.type, title, _first_language(update, ctx))


async def first_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before any command: a private chat the bot has not met yet is stored in its user's
    Telegram language, so whichever command comes first is answered in that language."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    if await chats.get_chat(services(context).db, chat.id) is None:
        await _ensure_this_chat(update, context)


def _first_language(update: Update, ctx) -> str:
    """A new private chat speaks its user's Telegram language when the bot does."""
    user = update.effective_user
    code = (user.language_code or "").split("-")[0].lower() if user is not None else ""
    if update.effective_chat.type == ChatType.PRIVATE and code in LANGUAGES:
        return code
    return ctx.config.bot.default_language


def _thread_of(update: Update) -> int | None:
    """The forum topic a message was sent in; alerts for what it subscribes go there."""
    message = update.effective_message
    return message.message_thread_id if message and message.is_topic_message else None


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _ensure_this_chat(update, context)  # also re-activates a chat that had blocked us
    await _send_help(update, context, greeting=True)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _send_help(update, context, greeting=False)


async def _send_help(update: Update, context: ContextTypes.DEFAULT_TYPE, *, greeting: bool) -> None:
    ctx = services(context)
    chat = update.effective_chat
    lang = await language_of(context, chat.id)
    parts = [t(lang, "start.greeting")] if greeting else []
    parts += [await _help_intro(ctx, chat.id, lang), t(lang, "help.commands").strip()]
    admin = is_bot_admin(ctx.config, update)
    if ctx.config.bot.personal_topics and chat.type == ChatType.PRIVATE and not admin:
        parts += [t(lang, "help.personal", limit=PERSONAL_LIMIT).strip(),
                  t(lang, "help.syntax").strip()]
    if admin:
        parts += [t(lang, "help.admin").strip(), t(lang, "help.syntax").strip()]
    await reply_text(update, "\n\n".join(parts))


async def _help_intro(ctx, chat_id: int, lang: str) -> str:
    """What a topic is, with a topic of this deployment as the example (the one most
    chats follow), or without an example while there is none."""
    shared = await topics.visible_topics(ctx.db, None)
    if not shared:
        return t(lang, "help.intro_no_topics").strip()
    followed = await chats.subscriber_counts(ctx.db)
    example = max(shared, key=lambda topic: (followed.get(topic.name, 0), -shared.index(topic)))
    return t(lang, "help.intro", name=example.name, title=example.title_in(lang)).strip()


def _topics_view(lang: str, all_topics: list[Topic], subscribed: set[str],
                 ids: dict[str, int], page: int = 1) -> tuple[str, InlineKeyboardMarkup | None]:
    """Page `page` (from 1; past the last, the last) of the topics, with their buttons."""
    if not all_topics:
        return t(lang, "topics.none"), None
    pages = -(-len(all_topics) // TOPICS_PER_PAGE)
    page = min(max(page, 1), pages)
    shown = all_topics[(page - 1) * TOPICS_PER_PAGE: page * TOPICS_PER_PAGE]
    lines = [t(lang, "topics.header")]
    if pages > 1:
        lines.append(t(lang, "topics.page", page=page, pages=pages))
    buttons = []
    for topic in shown:
        on = topic.name in subscribed
        lines.append(shorten(t(lang, "topics.line", mark="✅" if on else "▫️", name=topic.name,
                               title=topic.title_in(lang)), LINE_MAX))
        if topic.name in ids:
            action = "unsub" if on else "sub"
            label = f"✅ {topic.name}" if on else f"➕ {topic.name}"
            data = f"{action}:{ids[topic.name]}:{page}"
            buttons.append([InlineKeyboardButton(label, callback_data=data)])
    turns = []
    if page > 1:
        turns.append(InlineKeyboardButton(t(lang, "topics.previous"),
                                          callback_data=f"topics:{page - 1}"))
    if page < pages:
        turns.append(InlineKeyboardButton(t(lang, "topics.next"),
                                          callback_data=f"topics:{page + 1}"))
    if turns:
        buttons.append(turns)
    lines.append(t(lang, "topics.hint"))
    # One message, since a button press edits it in place.
    return shorten("\n".join(lines), MessageLimit.MAX_TEXT_LENGTH), InlineKeyboardMarkup(buttons)


async def _render_topics(context: ContextTypes.DEFAULT_TYPE, chat_id: int, page: int = 1):
    ctx = services(context)
    lang = await language_of(context, chat_id)
    subscribed = {s.topic for s in await chats.subscriptions(ctx.db, chat_id)}
    return _topics_view(lang, await topics.visible_topics(ctx.db, chat_id), subscribed,
                        await topics.topic_ids(ctx.db), page)


async def topics_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await reply(update, context, "usage.topics")
        return
    text, keyboard = await _render_topics(context, update.effective_chat.id)
    await reply_text(update, text, reply_markup=keyboard)


async def topic_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /topics button: subscribe or unsubscribe, then redraw the list in place."""
    ctx = services(context)
    query = update.callback_query
    chat_id = update.effective_chat.id
    lang = await language_of(context, chat_id)
    if not await may_manage_chat(context.bot, update):
        await query.answer(t(lang, "error.group_admins_only"), show_alert=True)
        return
    action, data, *page = query.data.split(":")
    # Callback data comes from the client: a forged id may not even fit SQLite.
    topic_id = positive_int(data)
    name = (await topics.topic_name(ctx.db, topic_id, visible_to=chat_id)
            if topic_id is not None else None)
    if name is None:
        await query.answer(t(lang, "topics.gone"), show_alert=True)
    elif action == "sub":
        await _ensure_this_chat(update, context)
        await chats.subscribe(ctx.db, chat_id, name, _thread_of(update))
        await query.answer(t(lang, "topics.subscribed", name=name))
    else:
        await chats.unsubscribe(ctx.db, chat_id, name)
        await query.answer(t(lang, "topics.unsubscribed", name=name))
    await _redraw_topics(context, query, chat_id, _page_number(page[0] if page else "1"))


async def topics_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀️ / ▶️ under /topics: the same message shows another page."""
    query = update.callback_query
    await query.answer()
    await _redraw_topics(context, query, update.effective_chat.id,
                         _page_number(query.data.split(":")[1]))


def _page_number(text: str) -> int:
    """The page a button asks for; a number past the last page is the last page."""
    if not (text.isascii() and text.isdigit()):
        return 1
    return max(int(text), 1) if len(text) < 10 else 10**9


async def _redraw_topics(context: ContextTypes.DEFAULT_TYPE, query, chat_id: int,
                         page: int) -> None:
    text, keyboard = await _render_topics(context, chat_id, page)
    try:
        await query.edit_message_text(text, reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():  # a double tap changes nothing
            raise


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button no handler knows (from an older version, or forged): answered all the same,
    so the user's client stops waiting."""
    chat = update.effective_chat
    lang = (await language_of(context, chat.id) if chat is not None
            else services(context).config.bot.default_language)
    await update.callback_query.answer(t(lang, "error.unknown_button"), show_alert=True)


async def subscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    names, channels = _split_channel(context.args)
    if not names or len(channels) > 1:
        await reply(update, context, "subscribe.usage")
        return
    target = await _target(update, context, channels)
    if target is None:
        return
    thread = None if target.channel else _thread_of(update)
    outcome = await chats.subscribe_many(services(context).db, target.chat_id, names, thread)
    lang = await language_of(context, update.effective_chat.id)
    lines = []
    if outcome.added:
        key = "subscribe.done_channel" if target.channel else "subscribe.done"
        lines.append(t(lang, key, names=name_list(lang, outcome.added), channel=target.channel))
    if outcome.already:
        lines.append(t(lang, "subscribe.already", names=name_list(lang, outcome.already)))
    if outcome.unknown:
        lines.append(t(lang, "error.unknown_topic", names=name_list(lang, outcome.unknown)))
    if outcome.moved:
        lines.append(t(lang, "subscribe.moved", names=name_list(lang, outcome.moved)))
    if thread is not None and (outcome.added or outcome.already):
        lines.append(t(lang, "subscribe.thread"))
    await reply_text(update, "\n".join(lines))


def name_list(lang: str, names: list[str]) -> str:
    """Names joined for one line of an answer; past NAMES_LISTED, the rest counted."""
    listed = ", ".join(names[:NAMES_LISTED])
    if len(names) <= NAMES_LISTED:
        return listed
    return f"{listed} {t(lang, 'input.more', count=len(names) - NAMES_LISTED)}"


async def unsubscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    names, channels = _split_channel(context.args)
    if len(names) != 1 or len(channels) > 1:
        await reply(update, context, "unsubscribe.usage")
        return
    target = await _target(update, context, channels)
    if target is None:
        return
    db = services(context).db
    name = names[0]
    if name.lower() == "all":
        count = await chats.unsubscribe_all(db, target.chat_id)
        await reply(update, context, "unsubscribe.all", count=count)
    elif await chats.unsubscribe(db, target.chat_id, name):
        key = "unsubscribe.done_channel" if target.channel else "unsubscribe.done"
        await reply(update, context, key, name=name, channel=target.channel)
    elif await topics.get_topic(db, name, visible_to=target.chat_id) is None:
        await reply(update, context, "error.unknown_topic", names=name)
    else:
        await reply(update, context, "unsubscribe.not_subscribed", name=name)


async def mysubs_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await reply(update, context, "usage.mysubs")
        return
    db = services(context).db
    chat_id = update.effective_chat.id
    lang = await language_of(context, chat_id)
    titles = {topic.name: topic.title_in(lang) for topic in await topics.list_topics(db)}
    subs = await chats.subscriptions(db, chat_id)
    lines = [t(lang, "mysubs.header") if subs else t(lang, "mysubs.none")]
    for sub in subs:
        key = "mysubs.thread" if sub.thread_id is not None else "mysubs.line"
        lines.append(t(lang, key, name=sub.topic, title=titles.get(sub.topic, ""),
                       thread=sub.thread_id))
    lines.append(t(lang, "mysubs.language", language=t(lang, f"language.names.{lang}")))
    await reply_text(update, "\n".join(lines))


async def arguments_and_target(update: Update, context: ContextTypes.DEFAULT_TYPE,
                               usage: str) -> tuple[list[str], Target] | None:
    """`/command ARGS… [@channel]`: the other arguments and the chat they apply to, after
    the permission checks; None once the usage line or a refusal was sent."""
    args, channels = _split_channel(context.args)
    if len(channels) > 1:
        await reply(update, context, usage)
        return None
    target = await _target(update, context, channels)
    return None if target is None else (args, target)


async def choice_and_target(update: Update, context: ContextTypes.DEFAULT_TYPE,
                            choices: tuple[str, ...], usage: str) -> tuple[str, Target] | None:
    """`/command CHOICE [@channel]`: the choice (lower-cased) and the chat it applies to,
    after the permission checks; None once the usage line or a refusal was sent."""
    args, channels = _split_channel(context.args)
    if len(args) != 1 or args[0].lower() not in choices or len(channels) > 1:
        await reply(update, context, usage)
        return None
    target = await _target(update, context, channels)
    return None if target is None else (args[0].lower(), target)


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chosen = await choice_and_target(update, context, LANGUAGES, "language.usage")
    if chosen is None:
        return
    language, target = chosen
    await chats.set_language(services(context).db, target.chat_id, language)
    if target.channel:
        lang = await language_of(context, update.effective_chat.id)
        await reply_text(update, t(lang, "language.set_channel", channel=target.channel,
                                   language=t(lang, f"language.names.{language}")))
    else:
        await reply(update, context, "language.set")  # already in the new language


async def timezone_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/timezone AREA/CITY [@channel]`: the zone times are shown in; alone, the current one."""
    args, channels = _split_channel(context.args)
    if not args and not channels:
        zone = await timezone_of(context, update.effective_chat.id)
        await reply(update, context, "timezone.current", timezone=zone)
        return
    if len(args) != 1 or len(channels) > 1:
        await reply(update, context, "timezone.usage")
        return
    zone = time_zone_named(args[0])
    if zone is None:
        await reply(update, context, "timezone.unknown", timezone=args[0][:64])
        return
    target = await _target(update, context, channels)
    if target is None:
        return
    await chats.set_timezone(services(context).db, target.chat_id, zone)
    key = "timezone.set_channel" if target.channel else "timezone.set"
    await reply(update, context, key, timezone=zone, channel=target.channel)


def _recent_count(args: list[str]) -> int | None:
    if len(args) == 1:
        return RECENT_DEFAULT
    return positive_int(args[1], RECENT_MAX) if len(args) == 2 else None


async def recent_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    count = _recent_count(context.args)
    if count is None:
        await reply(update, context, "recent.usage", max=RECENT_MAX)
        return
    db = services(context).db
    name = context.args[0]
    if await topics.get_topic(db, name, visible_to=update.effective_chat.id) is None:
        await reply(update, context, "error.unknown_topic", names=name)
        return
    found = await topics.recent_matches(db, name, count)
    if not found:
        await reply(update, context, "recent.none", name=name)
        return
    lang = await language_of(context, update.effective_chat.id)
    zone = await timezone_of(context, update.effective_chat.id)
    story_of = await stories.stories_of_entries(db, [m.entry_id for m in found])
    translator = services(context).translator
    titles = await asyncio.gather(*(title_in(translator, m.title, m.language, lang)
                                    for m in found))
    await reply_text(update, recent_listing(lang, zone, name, found, titles, story_of),
                     parse_mode=ParseMode.HTML,
                     link_preview_options=LinkPreviewOptions(is_disabled=True))


def recent_listing(lang: str, zone: str | None, name: str, found: list[topics.RecentMatch],
                   titles: list[str], story_of: dict[int, int]) -> str:
    """/recent's answer as Telegram HTML: per match its time in the chat's zone, outlet and
    language, its title in the chat's language as a link (never the bare address), and
    its story."""
    blocks = [html.escape(t(lang, "recent.header", name=name), quote=False)]
    for match, title in zip(found, titles):
        title = shorten(clean(title), RECENT_TITLE_LENGTH)
        linked = (f'<a href="{html.escape(match.link, quote=True)}">'
                  f'{html.escape(title, quote=False)}</a>'
                  if match.link.lower().startswith(("http://", "https://"))
                  else html.escape(title, quote=False))
        line = html.escape(t(lang, "recent.line", date=format_time(match.published, zone, lang),
                             feed=match.feed_name, language=match.language, title="\x00"),
                           quote=False).replace("\x00", linked)
        if match.entry_id in story_of:
            line += "\n" + html.escape(t(lang, "stories.recent", id=story_of[match.entry_id]),
                                       quote=False)
        blocks.append(line)
    return "\n\n".join(blocks)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Private chats always get an answer; groups only when the command names this bot,
    since a bare /command there may well be for another bot."""
    message = update.effective_message
    entity = message.entities[0] if message.entities else None
    command = message.text[1: entity.length] if entity else ""
    if update.effective_chat.type != ChatType.PRIVATE:
        _, _, addressee = command.partition("@")
        if addressee.lower() != (context.bot.username or "").lower():
            return
    await reply(update, context, "error.unknown_command")


async def chat_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group that became a supergroup keeps its language and subscriptions."""
    message = update.effective_message
    # Telegram posts the news in both chats; whichever arrives first moves the row.
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    else:
        old, new = message.migrate_from_chat_id, message.chat.id
    await chats.migrate_chat(services(context).db, old, new)
