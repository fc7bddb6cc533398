"""/search QUERY [Nd]: the stored entries of the last N days matching QUERY in any
language (the query filled into the others as /addtopic fills a topic), grouped by story,
newest first, titles in the chat's language as links."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.i18n import plural, t
from bot.matching.search import StoryHits, group_by_story, search_entries
from bot.message_text import clean, shorten
from bot.model import SearchableEntry
from bot.shown_time import format_time
from bot.store import stories
from bot.store.entries import searchable_since
from bot.telegram.arguments import positive_int
from bot.telegram.context import language_of, reply, reply_text, services, timezone_of
from bot.telegram.story_commands import _title_in
from bot.topics.edits import FilledQuery, fill_languages, query_errors

DEFAULT_DAYS = 7
MAX_STORIES = 10
ENTRIES_PER_STORY = 3
TITLE_LENGTH = 200
_DAYS = re.compile(r"^(\d{1,4})d$", re.IGNORECASE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def query_language(query: str, chat_language: str) -> str:
    """The language a search query is read in: Russian when it is written in Cyrillic,
    else the chat's language (English for a Russian chat typing Latin letters)."""
    if _CYRILLIC.search(query):
        return "ru"
    return "en" if chat_language == "ru" else chat_language


def read_search(args: Sequence[str], max_days: int) -> tuple[str, int] | None:
    """(query, days) from `/search QUERY [Nd]`; None when malformed. Days past the
    retention are the retention: older entries are gone anyway."""
    words = list(args)
    days = DEFAULT_DAYS
    if words and (found := _DAYS.match(words[-1])):
        number = positive_int(found.group(1))
        if number is None:
            return None
        days = min(number, max_days)
        words.pop()
    query = " ".join(words).strip()
    return (query, days) if query else None


def _e(text: str) -> str:
    return html.escape(text, quote=False)


def render_results(groups: Sequence[StoryHits], titles: dict[int, str], *, query: str,
                   days: int, lang: str, zone: str) -> str:
    """The answer as Telegram HTML: a header, then one block per story (at most
    MAX_STORIES, ENTRIES_PER_STORY entries each), the rest counted."""
    found = sum(len(group.entries) for group in groups)
    blocks = [_e(t(lang, "search.header", query=query, days=plural(lang, "search.days", days),
                   found=plural(lang, "search.entries", found),
                   stories=plural(lang, "search.stories", len(groups))))]
    for group in groups[:MAX_STORIES]:
        lines = [_e(t(lang, "search.story", id=group.story_id))] if group.story_id else []
        for entry in group.entries[:ENTRIES_PER_STORY]:
            title = shorten(clean(titles.get(entry.id, entry.title)), TITLE_LENGTH)
            when = format_time(datetime.fromtimestamp(entry.published_at, UTC), zone, lang)
            lines.append(t(lang, "search.line", date=_e(when), outlet=_e(clean(entry.outlet)),
                           language=entry.language,
                           title=f'<a href="{html.escape(entry.link, quote=True)}">{_e(title)}</a>'))
        if len(group.entries) > ENTRIES_PER_STORY:
            lines.append(_e(t(lang, "search.more_entries",
                              count=len(group.entries) - ENTRIES_PER_STORY, id=group.story_id)))
        blocks.append("\n".join(lines))
    if len(groups) > MAX_STORIES:
        blocks.append(_e(t(lang, "search.more_stories", count=len(groups) - MAX_STORIES)))
    return "\n\n".join(blocks)


def _not_searched(lang: str, filled: list[FilledQuery]) -> list[str]:
    return [_e(t(lang, "search.not_searched", language=item.language, error=item.error))
            for item in filled if item.query is None or item.error]


async def search_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = services(context)
    chat_id = update.effective_chat.id
    max_days = max(1, int(ctx.config.storage.retention // 86400))
    read = read_search(context.args, max_days)
    if read is None:
        await reply(update, context, "search.usage", days=DEFAULT_DAYS)
        return
    query, days = read
    lang = await language_of(context, chat_id)
    source = query_language(query, lang)
    if errors := query_errors({source: query}):
        await reply(update, context, "search.query_error", error=errors[source])
        return
    filled = await fill_languages(ctx.translator, {source: query})
    queries = {f.language: f.query for f in filled if f.query is not None and f.error is None}
    entries = await searchable_since(ctx.db, ctx.clock() - days * 86400)
    # Matching thousands of entries is CPU work: off the event loop.
    found = await asyncio.to_thread(search_entries, queries, entries)
    notes = _not_searched(lang, filled)
    if not found:
        text = "\n".join([_e(t(lang, "search.none", query=query,
                                days=plural(lang, "search.days", days))), *notes])
        await reply_text(update, text, parse_mode=ParseMode.HTML)
        return
    groups = group_by_story(found, await stories.stories_of_entries(
        ctx.db, [entry.id for entry in found]))
    shown = [entry for group in groups[:MAX_STORIES]
             for entry in group.entries[:ENTRIES_PER_STORY]]
    titles = await _titles(context, shown, lang)
    text = render_results(groups, titles, query=query, days=days, lang=lang,
                          zone=await timezone_of(context, chat_id))
    if notes:
        text += "\n\n" + "\n".join(notes)
    await reply_text(update, text, parse_mode=ParseMode.HTML,
                     link_preview_options=LinkPreviewOptions(is_disabled=True))


async def _titles(context: ContextTypes.DEFAULT_TYPE, entries: list[SearchableEntry],
                  lang: str) -> dict[int, str]:
    """Entry id -> its title in `lang`; the original where translation fails or is late."""
    timeout = services(context).config.translation.timeout + 5
    try:
        translated = await asyncio.wait_for(
            asyncio.gather(*(_title_in(context, entry, lang) for entry in entries)), timeout)
    except TimeoutError:
        return {}
    return {entry.id: title for entry, title in zip(entries, translated)}
