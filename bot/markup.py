"""HTML to the text a reader sees, on the standard library's HTML tokenizer (pure).

The one place markup becomes text: feed summaries (feeds/parse), text to match
(matching/text) and rendered alerts printed to a console (alerts/senders).
A tokenizer, unlike a tag-shaped regular expression, knows that `<b>Ukr</b>aine`
is one word, that `a < b` is not a tag, and where a script's text ends.
benchmarks/markup.py measures it against the regular expressions it replaced.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Elements whose content is never shown.
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe",
                     "object", "svg", "math"})
# Elements that separate words (others, such as <b> or <a>, run on within a word).
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div",
    "dl", "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "img", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
    "table", "td", "th", "tr", "ul",
})
_SPACE = re.compile(r"\s+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str, *, fold: bool = True) -> str:
    """The text of an HTML fragment: hidden elements and comments dropped, entities
    decoded, block elements a space; with `fold`, runs of whitespace made single
    spaces and the ends trimmed. With fold=False the text between tags is kept
    exactly, as Telegram shows its HTML, and text without markup costs nothing."""
    if "<" not in markup:
        if "&" in markup:  # entities only: no tag to find, the tokenizer's decoding alone
            markup = html.unescape(markup)
    else:
        try:
            markup = _tokenized(markup)
        except AssertionError:
            # html.parser asserts on a marked section it cannot name (`<![<!`): read
            # every `<![` as text and tokenize again.
            markup = _tokenized(markup.replace("<![", "&lt;!["))
    return _SPACE.sub(" ", markup).strip() if fold else markup


def _tokenized(markup: str) -> str:
    parser = _TextCollector()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)
