"""Bot admin commands about topics, plus /stats and /test, and the ACL every admin command
goes through: anyone not in `bot.admins` is refused before anything is read or changed."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.i18n import t
from bot.matching.backtest import backtest
from bot.matching.query import QueryError
from bot.model import LANGUAGES
from bot.store import chats, topics
from bot.store.entries import texts_since
from bot.store.feeds import list_feeds
from bot.store.outbox import alerts_sent_since, queue_length
from bot.store.topics import TooManyTopics
from bot.telegram.access import is_bot_admin
from bot.telegram.context import language_of, reply, reply_text, services, working_on
from bot.topics.edits import (
    FilledQuery,
    FormError,
    fill_languages,
    query_errors,
    read_addtopic,
    topic_from,
    translate_title,
    try_topic,
)
from bot.topics.personal import PERSONAL_LIMIT, Editor, Refused, topic_editor

BACKTEST_DAYS = 7
BACKTEST_TITLE_LENGTH = 120

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def admin_only(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not is_bot_admin(services(context).config, update):
            await reply(update, context, "admin.refused")
            return
        await handler(update, context)
    return checked


TopicHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Editor], Awaitable[None]]


def edits_topics(handler: TopicHandler) -> Handler:
    """A topic command: bot admins edit the shared topics; with `bot.personal_topics`,
    anyone else their own, in their private chat; everyone else is refused."""
    @functools.wraps(handler)
    async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        editor = topic_editor(is_admin=is_bot_admin(services(context).config, update),
                              personal_topics=services(context).config.bot.personal_topics,
                              private_chat=update.effective_chat.type == ChatType.PRIVATE,
                              user_id=user.id if user is not None else None)
        if isinstance(editor, Refused):
            await reply(update, context, editor.key)
            return
        await handler(update, context, editor)
    return checked


async def name_taken(update: Update, context: ContextTypes.DEFAULT_TYPE, editor: Editor,
                     name: str) -> bool:
    """True (and said) when a topic called `name` exists or `editor` has no room left."""
    ctx = services(context)
    if editor.personal and await topics.owned_count(ctx.db, editor.owner) >= PERSONAL_LIMIT:
        await reply(update, context, "personal.limit", limit=PERSONAL_LIMIT)
        return True
    if await topics.get_topic(ctx.db, name) is not None:
        # Another user's personal topic may hold the name: they are not named to others.
        await reply(update, context, "personal.taken" if editor.personal else "addtopic.exists",
                    name=name)
        return True
    return False


def filled_lines(lang: str, filled: list[FilledQuery]) -> list[str]:
    """Each language's query of a new topic: as written, translated, or why it is missing."""
    lines = []
    for item in filled:
        if item.source is None:
            lines.append(t(lang, "addtopic.query", language=item.language, query=item.query))
        elif item.query is None:
            lines.append(t(lang, "addtopic.not_translated", language=item.language,
                           error=item.error))
        elif item.error:
            lines.append(t(lang, "addtopic.translated_invalid", language=item.language,
                           query=item.query, error=item.error))
        else:
            lines.append(t(lang, "addtopic.translated", language=item.language,
                           query=item.query, source=item.source))
    return lines


async def backtest_lines(context: ContextTypes.DEFAULT_TYPE, lang: str,
                          queries: Mapping[str, str]) -> list[str]:
    """How many stored entries of the last days each language's query matches, with a
    few of their titles: the admin sees a query that is too broad or finds nothing."""
    ctx = services(context)
    if not queries:
        return []
    entries = await texts_since(ctx.db, ctx.clock() - BACKTEST_DAYS * 86400)
    # Matching thousands of entries is CPU work: off the event loop.
    results = await asyncio.to_thread(backtest, dict(queries), entries)
    lines = [t(lang, "backtest.header", days=BACKTEST_DAYS)]
    for result in results:
        lines.append(t(lang, "backtest.line", language=result.language,
                       matched=result.matched, searched=result.searched))
        lines += [t(lang, "backtest.title", title=title[:BACKTEST_TITLE_LENGTH])
                  for title in result.titles]
    return lines


async def _config_note(context: ContextTypes.DEFAULT_TYPE, lang: str, name: str) -> list[str]:
    if await topics.topic_origin(services(context).db, name) == "config":
        return [t(lang, "admin.config_note")]
    return []


async def addtopic_form(update: Update, context: ContextTypes.DEFAULT_TYPE,
                        editor: Editor) -> None:
    """`/addtopic NAME TITLE…` with `LANG: QUERY` lines: the topic is created at once."""
    ctx = services(context)
    lang = await language_of(context, update.effective_chat.id)
    try:
        form = read_addtopic(update.effective_message.text)
    except FormError as refusal:
        await reply(update, context, refusal.key, **refusal.values)
        return
    if errors := query_errors(form.queries):
        await reply_text(update, "\n".join(t(lang, "addtopic.query_error", language=language,
                                             error=error) for language, error in errors.items()))
        return
    if await name_taken(update, context, editor, form.name):
        return
    filled, titles = await working_on(update, context, asyncio.gather(
        fill_languages(ctx.translator, form.queries),
        translate_title(ctx.translator, form.title, lang)))
    topic = replace(topic_from(form, filled, titles), owner_id=editor.owner)
    try:
        added = await topics.add_topic(ctx.db, topic, owner_limit=PERSONAL_LIMIT)
    except TooManyTopics:
        added = False
    if not added:  # taken or full meanwhile
        await name_taken(update, context, editor, form.name)
        return
    await ctx.on_topics_changed()
    lines = [t(lang, "addtopic.done", name=form.name, title=form.title)]
    lines += [t(lang, "addtopic.title", language=language, title=title)
              for language, title in sorted(titles.items()) if language != lang]
    lines += filled_lines(lang, filled)
    lines += await backtest_lines(context, lang, topic.queries)
    await reply_text(update, "\n".join(lines))


@edits_topics
async def setquery_command(update: Update, context: ContextTypes.DEFAULT_TYPE,
                           editor: Editor) -> None:
    ctx = services(context)
    words = update.effective_message.text.split(maxsplit=3)[1:]
    if len(words) != 3 or words[1].lower() not in LANGUAGES:
        await reply(update, context, "setquery.usage")
        return
    name, language, query = words[0], words[1].lower(), words[2].strip()
    lang = await language_of(context, update.effective_chat.id)
    if errors := query_errors({language: query}):
        await reply(update, context, "addtopic.query_error", language=language,
                    error=errors[language])
        return
    if not await topics.set_query(ctx.db, name, language, query, owner=editor.owner):
        await reply(update, context, "error.unknown_topic", names=name)
        return
    await ctx.on_topics_changed()
    lines = [t(lang, "setquery.done", name=name, language=language, query=query)]
    lines += await backtest_lines(context, lang, {language: query})
    await reply_text(update, "\n".join(lines + await _config_note(context, lang, name)))


@edits_topics
async def settitle_command(update: Update, context: ContextTypes.DEFAULT_TYPE,
                           editor: Editor) -> None:
    """`/settitle TOPIC LANG TITLE…`: the title chats reading LANG see for the topic."""
    ctx = services(context)
    words = update.effective_message.text.split(maxsplit=3)[1:]
    if len(words) != 3 or words[1].lower() not in LANGUAGES or not words[2].strip():
        await reply(update, context, "settitle.usage")
        return
    name, language, title = words[0], words[1].lower(), " ".join(words[2].split())
    if not await topics.set_title(ctx.db, name, language, title, owner=editor.owner):
        await reply(update, context, "error.unknown_topic", names=name)
        return
    await ctx.on_topics_changed()
    lang = await language_of(context, update.effective_chat.id)
    lines = [t(lang, "settitle.done", name=name, language=language, title=title)]
    await reply_text(update, "\n".join(lines + await _config_note(context, lang, name)))


@edits_topics
async def deltopic_command(update: Update, context: ContextTypes.DEFAULT_TYPE,
                           editor: Editor) -> None:
    ctx = services(context)
    if len(context.args) != 1:
        await reply(update, context, "deltopic.usage")
        return
    name = context.args[0]
    lang = await language_of(context, update.effective_chat.id)
    note = await _config_note(context, lang, name)
    if not await topics.delete_topic(ctx.db, name, owner=editor.owner):
        await reply(update, context, "error.unknown_topic", names=name)
        return
    await ctx.on_topics_changed()
    await reply_text(update, "\n".join([t(lang, "deltopic.done", name=name), *note]))


@admin_only
async def test_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    words = update.effective_message.text.split(maxsplit=2)[1:]
    if len(words) != 2:
        await reply(update, context, "test.usage")
        return
    name, text = words
    topic = await topics.get_topic(services(context).db, name,
                                   visible_to=update.effective_user.id)
    if topic is None:
        await reply(update, context, "error.unknown_topic", names=name)
        return
    if not topic.queries:
        await reply(update, context, "test.no_queries", name=name)
        return
    lang = await language_of(context, update.effective_chat.id)
    lines = [t(lang, "test.header", name=name)]
    for language, terms in try_topic(topic, text).items():
        if isinstance(terms, QueryError):
            lines.append(t(lang, "input.stored_query_refused", language=language,
                           error=terms.message))
        elif terms is None:
            lines.append(t(lang, "test.no_match", language=language))
        else:
            lines.append(t(lang, "test.match", language=language, terms=", ".join(terms)))
    await reply_text(update, "\n".join(lines))


@admin_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await reply(update, context, "usage.stats")
        return
    ctx = services(context)
    lang = await language_of(context, update.effective_chat.id)
    hit_rate = t(lang, "stats.unknown")
    if ctx.translator is not None:
        rate = (await ctx.translator.stats()).get("hit_rate")
        if rate is not None:
            hit_rate = f"{rate:.0%}"
    now = ctx.clock()
    await reply(update, context, "stats.text",
                feeds=len(await list_feeds(ctx.db)),
                topics=len(await topics.list_topics(ctx.db)),
                chats=await chats.subscribed_chat_count(ctx.db),
                alerts=await alerts_sent_since(ctx.db, now - 86400),
                queue=await queue_length(ctx.db),
                hit_rate=hit_rate)
