"""/addtopic for everyone who may add topics, and its guided form: `/addtopic NAME` with
plain words is drafted as a query per language, shown with its backtest, and created
only when its author taps the confirmation button."""

from __future__ import annotations

from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.i18n import t
from bot.message_text import telegram_length
from bot.store import topic_drafts
from bot.store.topics import TooManyTopics
from bot.telegram.admin import (
    addtopic_form,
    backtest_lines,
    edits_topics,
    filled_lines,
    name_taken,
)
from bot.telegram.arguments import positive_int
from bot.telegram.context import language_of, reply, reply_text, services
from bot.topics.edits import FormError, TopicForm, fill_languages, topic_from, translate_title
from bot.topics.guided import is_guided, query_from_words, read_guided
from bot.topics.personal import PERSONAL_LIMIT, Editor

DRAFT_PATTERN = r"^draft:(ok|no):\d+$"


@edits_topics
async def addtopic_command(update: Update, context: ContextTypes.DEFAULT_TYPE,
                           editor: Editor) -> None:
    if is_guided(update.effective_message.text):
        await draft_topic(update, context, editor)
    else:
        await addtopic_form(update, context, editor)


async def draft_topic(update: Update, context: ContextTypes.DEFAULT_TYPE,
                      editor: Editor) -> None:
    ctx = services(context)
    chat_id = update.effective_chat.id
    lang = await language_of(context, chat_id)
    try:
        form = read_guided(update.effective_message.text)
        query = query_from_words(form.words, lang)  # the words are in the chat's language
    except FormError as refusal:
        await reply(update, context, refusal.key, **refusal.values)
        return
    if await name_taken(update, context, editor, form.name):
        return
    filled = await fill_languages(ctx.translator, {lang: query})
    titles = await translate_title(ctx.translator, form.words, lang)
    topic = replace(topic_from(TopicForm(form.name, form.words, {lang: query}), filled, titles),
                    owner_id=editor.owner)
    draft_id = await topic_drafts.save_draft(ctx.db, chat_id, update.effective_user.id, topic,
                                             ctx.clock())
    lines = [t(lang, "guided.header", name=form.name, title=form.words)]
    lines += filled_lines(lang, filled)
    lines += await backtest_lines(context, lang, topic.queries)
    lines.append(t(lang, "guided.confirm"))
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(t(lang, "guided.create", name=form.name),
                              callback_data=f"draft:ok:{draft_id}")],
        [InlineKeyboardButton(t(lang, "guided.cancel"), callback_data=f"draft:no:{draft_id}")],
    ])
    await reply_text(update, "\n".join(lines), reply_markup=keyboard)


async def draft_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The draft's buttons: create the topic, or forget the draft; its author only."""
    ctx = services(context)
    query = update.callback_query
    chat_id = update.effective_chat.id
    lang = await language_of(context, chat_id)
    _, action, data = query.data.split(":")
    draft_id = positive_int(data)
    draft = await topic_drafts.get_draft(ctx.db, draft_id) if draft_id is not None else None
    if draft is None or draft.chat_id != chat_id:
        await query.answer(t(lang, "guided.gone"), show_alert=True)
        return
    if draft.user_id != query.from_user.id:
        await query.answer(t(lang, "guided.not_yours"), show_alert=True)
        return
    name = draft.topic.name
    if action == "no":
        await topic_drafts.drop_draft(ctx.db, draft.id)
        outcome = t(lang, "guided.cancelled", name=name)
    else:
        try:
            created = await topic_drafts.create_from_draft(ctx.db, draft, ctx.clock(),
                                                           owner_limit=PERSONAL_LIMIT)
        except TooManyTopics:
            await query.answer(t(lang, "personal.limit", limit=PERSONAL_LIMIT), show_alert=True)
            return
        if not created:
            key = "personal.taken" if draft.topic.owner_id is not None else "addtopic.exists"
            await query.answer(t(lang, key, name=name), show_alert=True)
            return
        await ctx.on_topics_changed()
        outcome = t(lang, "guided.created", name=name)
    await query.answer(outcome)
    shown = f"{getattr(query.message, 'text', None) or ''}\n\n{outcome}".strip()
    if telegram_length(shown) > MessageLimit.MAX_TEXT_LENGTH:
        shown = outcome
    try:  # the draft's message loses its buttons and says what became of it
        await query.edit_message_text(shown)
    except BadRequest:  # too old or already edited: the answer above said it
        pass
