"""One alert as Telegram HTML: every piece of feed text escaped, never over Telegram's 4096 characters."""

from __future__ import annotations

import functools
import html
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources

MAX_LENGTH = 4096  # Telegram's limit, counted after entity parsing
SUMMARY_LENGTH = 600  # "a short summary": enough to judge the story, short enough to scan
LINK_TEXT_LENGTH = 200  # the shown link text; the href itself does not count
ELLIPSIS = "…"
ARROW = "→"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class AlertView:
    """Everything an alert shows, as plain (unescaped) text."""

    topic_title: str
    outlet: str
    source_language: str
    target_language: str
    title: str  # in the target language when translated, else the original
    original_title: str  # shown when the languages differ
    summary: str  # translated when possible
    link: str
    terms: tuple[str, ...] = ()
    translation_failed: bool = False


@functools.cache
def chrome(language: str) -> Mapping[str, str]:
    """The alert's own words (Original, Matched, ...) in `language`; English if unknown."""
    text = (resources.files("bot.alerts") / "chrome.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text)
    return table.get(language) or table["en"]


def telegram_length(text: str) -> int:
    """Length as Telegram counts a parsed message: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def clean(text: str) -> str:
    """Feed text on one line: control characters dropped, runs of whitespace one space."""
    return _SPACES.sub(" ", _CONTROL.sub("", text or "")).strip()


def shorten(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units, cut at a word boundary when one is near, with an ellipsis."""
    if telegram_length(text) <= limit:
        return text
    if limit <= 0:
        return ""
    budget = limit - 1  # room for the ellipsis
    cut = text[:budget]
    while telegram_length(cut) > budget:  # astral characters count twice
        cut = cut[:-1]
    space = cut.rfind(" ")
    if space >= budget * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _lines(view: AlertView, strings: Mapping[str, str]) -> list[tuple[str, str]]:
    """(html, plain) per line; the plain text is what Telegram counts."""
    lines: list[tuple[str, str]] = []

    def add(markup: str, plain: str) -> None:
        lines.append((markup, plain))

    if view.topic_title:
        add(f"<b>{_e(view.topic_title)}</b>", view.topic_title)
    marker = f"{view.source_language} {ARROW} {view.target_language}"
    head = f"{view.outlet} · {marker}" if view.outlet else marker
    add(f"<i>{_e(head)}</i>", head)
    if view.title:
        add(f"<b>{_e(view.title)}</b>", view.title)
    if view.original_title and view.source_language != view.target_language:
        label = f"{strings['original']}: "
        add(f"<i>{_e(label)}{_e(view.original_title)}</i>", label + view.original_title)
    if view.summary:
        add(_e(view.summary), view.summary)
    if view.link:
        shown = shorten(view.link, LINK_TEXT_LENGTH)
        if view.link.lower().startswith(("http://", "https://")):
            add(f'<a href="{_e(view.link)}">{_e(shown)}</a>', shown)
        else:
            add(_e(shown), shown)
    if view.terms:
        label = f"{strings['matched']}: "
        add(_e(label) + ", ".join(f"<code>{_e(t)}</code>" for t in view.terms),
            label + ", ".join(view.terms))
    if view.translation_failed:
        note = strings["translation_unavailable"]
        add(f"<i>{_e(note)}</i>", note)
    return lines


def _length(view: AlertView, strings: Mapping[str, str]) -> int:
    plain = "\n".join(p for _, p in _lines(view, strings))
    return telegram_length(plain)


def _fit(view: AlertView, strings: Mapping[str, str]) -> AlertView:
    """Cut the summary first, then the titles, then the rest, until the alert fits."""
    for name in ("summary", "original_title", "title", "terms", "topic_title", "outlet"):
        excess = _length(view, strings) - MAX_LENGTH
        if excess <= 0:
            return view
        if name == "terms":
            terms = list(view.terms)
            while terms and _length(replace(view, terms=tuple(terms)), strings) > MAX_LENGTH:
                terms.pop()
            view = replace(view, terms=tuple(terms))
            continue
        value = getattr(view, name)
        view = replace(view, **{name: shorten(value, max(0, telegram_length(value) - excess))})
    return view


def view_from(*, topic_title: str, outlet: str, source_language: str, target_language: str,
              title: str, original_title: str, summary: str, link: str,
              terms: tuple[str, ...] | list[str] = (),
              translation_failed: bool = False) -> AlertView:
    """An AlertView from raw feed text: cleaned to one line each, summary made short."""
    return AlertView(topic_title=clean(topic_title), outlet=clean(outlet),
                     source_language=source_language, target_language=target_language,
                     title=clean(title), original_title=clean(original_title),
                     summary=shorten(clean(summary), SUMMARY_LENGTH), link=clean(link),
                     terms=tuple(clean(t) for t in terms if clean(t)),
                     translation_failed=translation_failed)


def render_alert(view: AlertView, strings: Mapping[str, str] | None = None) -> str:
    """The alert's Telegram HTML (parse_mode=HTML), at most 4096 characters once parsed."""
    strings = strings if strings is not None else chrome(view.target_language)
    view = _fit(view, strings)
    return "\n".join(markup for markup, _ in _lines(view, strings))


def strip_html(markup: str) -> str:
    """Rendered HTML back to the text a reader sees (for the console)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))
