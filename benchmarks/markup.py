"""HTML-to-text on the corpus: the tokenizer (bot.markup) against the regular expressions
it replaced, and BeautifulSoup (on the same html.parser) for scale.

Every title, summary and content value of the curated and bulk feeds, as feedparser
hands them to the parser stage, is converted by each reader; the script prints the
time per 1,000 values and how many outputs differ from the regular expressions'.

    .venv/bin/python benchmarks/markup.py
"""

from __future__ import annotations

import html
import platform
import re
import sys
import time
from pathlib import Path

import feedparser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.markup import html_to_text

CORPUS = REPO.parent / "shared" / "corpus"

# The regular expressions feeds/parse.py used before bot.markup.
_INVISIBLE = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>|<!--.*?-->",
                        re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")
_SPACE = re.compile(r"\s+")


def regex_text(markup: str) -> str:
    if "<" in markup:
        markup = _TAG.sub(" ", _INVISIBLE.sub(" ", markup))
    return _SPACE.sub(" ", html.unescape(markup)).strip()


def soup_text(markup: str) -> str:
    from bs4 import BeautifulSoup

    return _SPACE.sub(" ", BeautifulSoup(markup, "html.parser").get_text(" ")).strip()


def corpus_values() -> list[str]:
    values = []
    for path in sorted((CORPUS / "feeds").glob("*/*.xml")) + sorted(
            (CORPUS / "bulk").rglob("*.xml")):
        doc = feedparser.parse(path.read_bytes(), sanitize_html=False,
                               resolve_relative_uris=False)
        for item in doc.entries:
            for detail in (item.get("title_detail"), item.get("summary_detail"),
                           *(item.get("content") or [])):
                if detail and detail.get("value"):
                    values.append(detail["value"])
    return values


def timed(reader, values: list[str]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    out = [reader(v) for v in values]
    return time.perf_counter() - started, out


def main() -> None:
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    values = corpus_values()
    with_markup = sum(1 for v in values if "<" in v or "&" in v)
    print(f"python {platform.python_version()}, {platform.machine()}: {len(values)} values "
          f"({with_markup} with markup or entities), {sum(map(len, values)) / 1e6:.1f} M chars")
    base_seconds, base = timed(regex_text, values)
    for name, reader in (("regular expressions (before)", regex_text),
                         ("html.parser tokenizer (bot.markup)", html_to_text),
                         ("BeautifulSoup, html.parser", soup_text)):
        seconds, out = timed(reader, values)
        differ = sum(1 for a, b in zip(base, out) if a != b)
        print(f"  {name:36s} {seconds / len(values) * 1e6:8.1f} ms per 1,000 values "
              f"({seconds / base_seconds:4.1f}x)  {differ:5d} outputs differ from the regexes")


if __name__ == "__main__":
    main()
