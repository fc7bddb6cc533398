"""Charset remedies measured on the corpus: which one gets the titles right, and at what cost.

Two damages, made from the curated feeds (../shared/corpus/feeds):

- one bad byte: a truncated UTF-8 character (a lone lead byte) before the first
  item's closing description, in every UTF-8 feed;
- undeclared: every non-UTF-8 feed with its charset declaration removed, plus
  each Russian feed re-encoded as KOI8-R without a declaration.

For each, four ways to read it: feedparser alone (baseline); a charset detector
(charset-normalizer, told the feed's language as the service is) whenever the
declared bytes do not decode; the declared
charset (UTF-8 when none) decoded with replacement; and bot.feeds.charset, which
uses replacement for a few damaged bytes and the detector otherwise. The figure
is the share of entries whose title comes out as in the undamaged feed (the
damaged entry itself excluded), and the mean time per document.

    .venv/bin/python benchmarks/charset.py
"""

from __future__ import annotations

import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.feeds.charset import _detected, declared_charset, normalise_charset

CORPUS = REPO.parent / "shared" / "corpus" / "feeds"
_DECLARATION = re.compile(rb"""(<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")

Reader = Callable[[bytes, str, str | None], tuple[bytes, str]]
LANGUAGE = {"fr": "fr", "en": "en", "ru": "ru"}  # by corpus folder; "other" gets none


def titles(body: bytes, content_type: str) -> list[str]:
    return [e.get("title", "") for e in feedparser.parse(
        body, response_headers={"content-type": content_type}).entries]


def as_is(body: bytes, content_type: str, _language: str | None) -> tuple[bytes, str]:
    return body, content_type


def _strict(body: bytes, content_type: str) -> bool:
    try:
        body.decode(declared_charset(body, content_type) or "utf-8")
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def detector(body: bytes, content_type: str, language: str | None) -> tuple[bytes, str]:
    if _strict(body, content_type):
        return body, content_type
    return _utf8(_detected(body, language))


def replacement(body: bytes, content_type: str, _language: str | None) -> tuple[bytes, str]:
    if _strict(body, content_type):
        return body, content_type
    return _utf8(body.decode(declared_charset(body, content_type) or "utf-8", "replace"))


def _utf8(text: str) -> tuple[bytes, str]:
    return _DECLARATION.sub(rb"\1", text.encode("utf-8"), count=1), "application/xml; charset=utf-8"


READERS: dict[str, Reader] = {"feedparser alone": as_is, "detector": detector,
                              "declared + replacement": replacement,
                              "bot.feeds.charset": normalise_charset}


def damaged_cases() -> tuple[list, list]:
    """([(path, damaged body, reference titles, excluded index)], same for undeclared)."""
    bad_byte, undeclared = [], []
    for path in sorted(CORPUS.glob("*/*.xml")):
        body = path.read_bytes()
        charset = declared_charset(body, None) or "utf-8"
        try:
            body.decode(charset)
        except UnicodeDecodeError:
            continue  # already damaged at the source: no reference to compare with
        reference = titles(body, "application/xml")
        if not reference:
            continue
        if charset == "utf-8":
            cut = body.find(b"</description>")
            if cut > 0:
                first_item = body.count(b"<item", 0, cut) + body.count(b"<entry", 0, cut) - 1
                bad_byte.append((path, body[:cut] + b"\xd0" + body[cut:], reference, first_item))
        else:
            undeclared.append((path, _DECLARATION.sub(rb"\1", body, count=1), reference, -1))
        if path.parent.name == "ru":
            try:
                koi8 = body.decode(charset).encode("koi8-r")
            except UnicodeEncodeError:
                continue
            undeclared.append((path, _DECLARATION.sub(rb"\1", koi8, count=1), reference, -1))
    return bad_byte, undeclared


def score(cases: list, reader: Reader) -> tuple[int, int, float]:
    right = total = 0
    started = time.perf_counter()
    for path, body, reference, excluded in cases:
        got = titles(*reader(body, "application/xml", LANGUAGE.get(path.parent.name)))
        for i, title in enumerate(reference):
            if i == excluded:
                continue
            total += 1
            right += i < len(got) and got[i] == title
    return right, total, (time.perf_counter() - started) / max(len(cases), 1) * 1000


def main() -> None:
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    bad_byte, undeclared = damaged_cases()
    print(f"python {platform.python_version()}, {platform.machine()}, feedparser "
          f"{feedparser.__version__}")
    for label, cases in (("one bad byte in a UTF-8 feed", bad_byte),
                         ("no charset declared (non-UTF-8 feeds, KOI8-R copies)", undeclared)):
        print(f"\n{label}: {len(cases)} feeds")
        for name, reader in READERS.items():
            right, total, ms = score(cases, reader)
            print(f"  {name:24s} {right:5d}/{total:<5d} titles right ({right / total:6.1%})"
                  f"  {ms:7.1f} ms/feed")


if __name__ == "__main__":
    main()
