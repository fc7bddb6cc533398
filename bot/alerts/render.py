"""One alert as Telegram HTML: every piece of feed text escaped, never over Telegram's 4096 characters.

The layout, top to bottom: the matched topics' titles; outlet, publication time
and (only when translated) the `fr → en` marker; the title, with the original
under it when translated; a short summary; the words that matched, in bold
wherever they appear above; a labelled link; lines about the story's coverage.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.i18n import t
from bot.message_text import (
    MAX_LENGTH,
    SUMMARY_LENGTH,
    clean,
    shorten,
    strip_html,
    telegram_length,
)

LINK_TEXT_LENGTH = 200  # a link shown as text (not http): its length counts
BUTTON_TEXT_LENGTH = 64  # a button label; clients show about this much on a phone
MAX_MUTE_BUTTONS = 4
ARROW = "→"
SEPARATOR = " · "



@dataclass(frozen=True)
class AlertView:
    """Everything an alert shows, as plain (unescaped) text in the chat's language."""

    topic_titles: tuple[str, ...]
    outlet: str
    source_language: str
    target_language: str
    title: str  # in the target language when translated, else the original
    original_title: str = ""  # shown only when translated
    summary: str = ""  # translated when possible
    link: str = ""
    when: str = ""  # publication (or first-seen) time, formatted: see format_time
    words: tuple[str, ...] = ()  # the words that matched, as written in the entry
    translated: bool = False
    translation_failed: bool = False
    coverage: tuple[str, ...] = ()  # lines about the story's other coverage, shown last


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _word_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """Whole-word, case-insensitive; longest first so a phrase wins over its own words."""
    words = sorted({w for w in words if w.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)  # escaped: never a pattern of its own
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)


def highlight(text: str, pattern: re.Pattern[str] | None) -> str:
    """`text` escaped, with the matched words in bold. Words are found in the plain
    text and each piece is escaped on its own, so a tag never cuts an entity."""
    if pattern is None:
        return _e(text)
    out, last = [], 0
    for found in pattern.finditer(text):
        out.append(_e(text[last:found.start()]))
        out.append(f"<b>{_e(found.group())}</b>")
        last = found.end()
    out.append(_e(text[last:]))
    return "".join(out)


def _lines(view: AlertView) -> list[tuple[str, str]]:
    """(html, plain) per line; the plain text is what Telegram counts."""
    lang = view.target_language
    words = _word_pattern(view.words)
    lines: list[tuple[str, str]] = []

    def add(markup: str, plain: str) -> None:
        lines.append((markup, plain))

    topics = SEPARATOR.join(title for title in view.topic_titles if title)
    if topics:
        add(f"<b>{_e(topics)}</b>", topics)
    head = [part for part in (view.outlet, view.when) if part]
    if view.translated:
        head.append(f"{view.source_language} {ARROW} {view.target_language}")
    if head:
        add(f"<i>{_e(SEPARATOR.join(head))}</i>", SEPARATOR.join(head))
    if view.title:
        add(highlight(view.title, words), view.title)
    if view.translated and view.original_title:
        label = t(lang, "alert.original") + " "
        add(f"<i>{_e(label)}{highlight(view.original_title, words)}</i>",
            label + view.original_title)
    if view.summary:
        add(highlight(view.summary, words), view.summary)
    if view.words:
        label = t(lang, "alert.matched") + " "
        shown = ", ".join(view.words)
        add(_e(label) + ", ".join(f"<b>{_e(w)}</b>" for w in view.words), label + shown)
    if view.link:
        if view.link.lower().startswith(("http://", "https://")):
            text = (t(lang, "alert.read_on", outlet=view.outlet) if view.outlet
                    else t(lang, "alert.read"))
            add(f'<a href="{_e(view.link)}">{_e(text)}</a>', text)
        else:
            shown = shorten(view.link, LINK_TEXT_LENGTH)
            add(_e(shown), shown)
    for line in view.coverage:
        if line:
            add(_e(line), line)
    if view.translation_failed:
        note = t(lang, "alert.translation_unavailable")
        add(f"<i>{_e(note)}</i>", note)
    return lines


def _length(view: AlertView) -> int:
    return telegram_length("\n".join(plain for _, plain in _lines(view)))


def _fit_items(view: AlertView, name: str) -> AlertView:
    items = list(getattr(view, name))
    while items and _length(replace(view, **{name: tuple(items)})) > MAX_LENGTH:
        items.pop()
    return replace(view, **{name: tuple(items)})


def _fit(view: AlertView) -> AlertView:
    """Cut the summary first, then the coverage and the titles, then the rest, until it fits."""
    for name in ("summary", "coverage", "original_title", "title", "words", "topic_titles",
                 "outlet", "when", "summary", "original_title", "title"):
        excess = _length(view) - MAX_LENGTH
        if excess <= 0:
            return view
        if name in ("coverage", "words", "topic_titles"):
            view = _fit_items(view, name)
            if name == "topic_titles" and _length(view) > MAX_LENGTH and view.topic_titles:
                view = replace(view, topic_titles=(shorten(view.topic_titles[0], 200),))
            continue
        value = getattr(view, name)
        view = replace(view, **{name: shorten(value, max(0, telegram_length(value) - excess))})
    return view


def view_from(*, topic_titles: Sequence[str], outlet: str, source_language: str,
              target_language: str, title: str, original_title: str = "", summary: str = "",
              link: str = "", when: str = "", words: Sequence[str] = (),
              translated: bool = False, translation_failed: bool = False,
              coverage: Sequence[str] = ()) -> AlertView:
    """An AlertView from raw feed text: cleaned to one line each, summary made short."""
    return AlertView(
        topic_titles=tuple(clean(title) for title in topic_titles if clean(title)),
        outlet=clean(outlet), source_language=source_language,
        target_language=target_language, title=clean(title),
        original_title=clean(original_title),
        summary=shorten(clean(summary), SUMMARY_LENGTH), link=clean(link), when=clean(when),
        words=tuple(dict.fromkeys(clean(w) for w in words if clean(w))),
        translated=translated, translation_failed=translation_failed,
        coverage=tuple(clean(line) for line in coverage if clean(line)))


def render_alert(view: AlertView) -> str:
    """The alert's Telegram HTML (parse_mode=HTML), at most 4096 characters once parsed."""
    return "\n".join(markup for markup, _ in _lines(_fit(view)))


def mute_buttons(topics: Sequence[tuple[int, str]], language: str
                 ) -> tuple[tuple[str, str], ...]:
    """(label, callback data) of a "mute TOPIC" button per (topic id, title in the chat's
    language): it unsubscribes the chat from that topic."""
    return tuple(
        (shorten(t(language, "alert.mute", title=title), BUTTON_TEXT_LENGTH), f"mute:{topic_id}")
        for topic_id, title in topics[:MAX_MUTE_BUTTONS])


_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>')


def console_text(markup: str) -> str:
    """Rendered HTML as a terminal shows it: the text, each link's address after its label
    in angle brackets, as plain text quotes addresses ('Lire sur Le Monde <https://…>': no
    colon, which French would space differently)."""
    return strip_html(_LINK.sub(lambda m: f"{m.group(2)} &lt;{m.group(1)}&gt;", markup))
