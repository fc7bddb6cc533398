"""The render stage: an outbox row -> its alert's HTML in the chat's language and time
zone, translated first (the translate stage) when the entry is in another language."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.alerts.render import render_alert, view_from
from bot.matching.found import found_words
from bot.shown_time import format_time
from bot.store.chats import shown_timezone
from bot.store.outbox import OutboxItem
from bot.translation.stage import TranslateStage


class RenderStage:
    def __init__(self, translate: TranslateStage, default_timezone: str = "UTC") -> None:
        self.translate = translate
        self.default_timezone = default_timezone  # chats that set no /timezone

    async def __call__(self, item: OutboxItem) -> str:
        source, target = item.entry_language, item.chat_language
        title, summary, original, failed = item.title, item.summary, "", False
        translated = False
        if source != target:
            translation = await self.translate.entry(item.entry_id, item.title, item.summary,
                                                     source, target)
            if translation is not None and translation.translated:
                title, summary, original = translation.title, translation.summary, item.title
                translated = True
            else:
                # No note when translation is switched off (provider none): nothing failed.
                failed = translation is None or translation.note is not None
        when = format_time(datetime.fromtimestamp(item.published_at, UTC),
                           shown_timezone(item.chat_timezone, self.default_timezone), target,
                           seen=item.seen_only)
        words = found_words((item.title, item.summary), item.terms, source)
        titles = [title for _, title in item.topics] or [item.topic_title]
        view = view_from(topic_titles=titles, outlet=item.feed_name,
                         source_language=source, target_language=target, title=title,
                         original_title=original, summary=summary, link=item.link, when=when,
                         words=words, translated=translated, translation_failed=failed)
        return render_alert(view)

    async def title(self, entry_id: int, title: str, summary: str, source: str,
                    target: str) -> str:
        """The entry's title in `target`: its translation (the one its alert shows), else
        the original."""
        if source == target:
            return title
        translation = await self.translate.entry(entry_id, title, summary, source, target)
        return translation.title if translation is not None and translation.translated \
            else title
