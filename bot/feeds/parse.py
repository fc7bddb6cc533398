"""Feed bytes -> immutable Entry values via feedparser; pure, no I/O."""

from __future__ import annotations

import calendar
import hashlib
import re
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.feeds import FeedError, one_line
from bot.feeds.charset import normalise_charset
from bot.links import canonical_link, published_link
from bot.markup import html_to_text
from bot.model import Entry

NOT_XML_TYPES = ("text/html", "text/plain", "application/json", "image/", "application/pdf")
_SPACE = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_REFERENCE = re.compile(rb"&#([0-9]{1,7}|[xX][0-9a-fA-F]{1,6});")
# UTF-8 read as windows-1252 ("ActualitÃ©s", "Ð’ ÐœÐ¾ÑÐºÐ²Ðµ"): a lead byte then a continuation.
_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178"
                       "\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


class ParseError(FeedError):
    """The body is not a usable feed; the message is one line for the feed's health."""


def parse_entries(body: bytes, content_type: str | None, language: str, now: datetime,
                  url: str = "") -> list[Entry]:
    """Every item of a feed document as an Entry; ParseError if it is not a feed.

    `content_type` is the response's header, so a declared charset (windows-1251,
    KOI8-R, ...) decodes right; `url` resolves relative links; `now` (UTC) stands in
    for missing or future publication times.
    """
    body, parser_type = normalise_charset(body, content_type, language)
    body = repair_surrogate_references(body)
    headers = {"content-type": parser_type or "application/xml"}
    if url:
        headers["content-location"] = url
    try:
        doc = feedparser.parse(body, response_headers=headers, sanitize_html=False,
                               resolve_relative_uris=False)
    except Exception as exc:  # feedparser is meant never to raise; a bad byte may still
        raise ParseError(f"unparsable feed: {one_line(exc)}") from None
    problem = _document_problem(doc, content_type)
    if problem:
        raise ParseError(problem)

    entries: list[Entry] = []
    seen: set[str] = set()
    for item in doc.entries:
        try:
            entry = _entry(item, language, now, url)
        except Exception:  # one malformed item costs that item, never the feed
            continue
        if not (entry.title or entry.summary or entry.link):
            continue  # an empty shell (illegal nesting, stray tags): nothing to show
        if entry.key not in seen:
            seen.add(entry.key)
            entries.append(entry)
    return entries


def _document_problem(doc, content_type: str | None) -> str | None:
    exc = doc.get("bozo_exception")
    message = one_line(exc) if exc is not None else ""
    # expat's words for a document that stops before its end
    if any(words in message for words in ("no element found", "unclosed token", "unclosed CDATA")):
        return f"truncated XML ({message})"
    if not doc.get("version") and not doc.entries:
        media = (content_type or "").split(";")[0].strip().lower()
        return f"not a feed ({media})" if media else "not a feed"
    return None


def _entry(item, language: str, now: datetime, base_url: str) -> Entry:
    title = _text(item.get("title_detail")) or _text_value(item.get("title", ""))
    summary = _summary(item)
    link = _valid(published_link(_absolute(item.get("link", "") or "", base_url)))
    title, summary = _valid(repair_mojibake(title)), _valid(repair_mojibake(summary))
    guid = _valid((item.get("id") or "").strip())
    if guid:
        key = guid
    elif link:
        key = canonical_link(link)  # as before links were kept as published
    else:
        digest = hashlib.sha256(f"{title}\n{summary}".encode())
        key = "sha256:" + digest.hexdigest()[:32]
    return Entry(key=key, link=link, title=title, summary=summary,
                 published=_published(item, now), language=language)


def _valid(text: str) -> str:
    """Text that encodes as UTF-8: surrogate pairs joined, lone surrogates replaced."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def repair_surrogate_references(body: bytes) -> bytes:
    """Character references to UTF-16 surrogates (`&#55357;&#56832;`, as JavaScript
    escapes an emoji) made one reference to the character, or to U+FFFD when unpaired:
    feedparser fails the whole document on them."""
    if b"&#" not in body:
        return body
    out: list[bytes] = []
    pos = 0
    matches = list(_REFERENCE.finditer(body))
    skip = False
    for i, m in enumerate(matches):
        if skip:
            skip = False
            continue
        value = _reference_value(m)
        if not 0xD800 <= value <= 0xDFFF:
            continue
        out.append(body[pos:m.start()])
        pos = m.end()
        following = matches[i + 1] if i + 1 < len(matches) else None
        if (value <= 0xDBFF and following is not None and following.start() == m.end()
                and 0xDC00 <= _reference_value(following) <= 0xDFFF):
            low = _reference_value(following)
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            pos = following.end()
            skip = True
        else:
            value = 0xFFFD
        out.append(b"&#%d;" % value)
    if not out:
        return body
    out.append(body[pos:])
    return b"".join(out)


def _reference_value(m: re.Match) -> int:
    digits = m.group(1)
    return int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)


def _summary(item) -> str:
    detail = item.get("summary_detail")
    if detail is not None:
        return _text(detail)
    contents = item.get("content") or []
    return _text(contents[0]) if contents else ""


def _text(detail) -> str:
    if not detail:
        return ""
    value = detail.get("value", "") or ""
    if detail.get("type") == "text/plain":
        return _text_value(value)
    return html_to_text(value)


def _text_value(value: str) -> str:
    # A plain-text field was decoded once by the XML parser; what still looks like
    # an entity or a tag is the publisher's text (`AT&amp;T` written as text, a
    # title about `<div>`), so it is kept as written.
    return _SPACE.sub(" ", value).strip()


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as windows-1252 somewhere upstream, when that is certain."""
    if not _MOJIBAKE.search(text):
        return text
    try:
        raw = b"".join(c.encode("cp1252") if ord(c) > 255 else bytes((ord(c),)) for c in text)
    except UnicodeEncodeError:
        return text
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # cut mid-character by the publisher
            return raw[:exc.start].decode("utf-8", "replace")
        return text


def _absolute(link: str, base_url: str) -> str:
    link = link.strip()
    if not link or not base_url or urlsplit(link).scheme:
        return link
    return urljoin(base_url, link)


# Earlier than any web feed: a zero a feed printed for "no date" (1970-01-01, 0001-01-01).
_EARLIEST_DATE = datetime(1995, 1, 1, tzinfo=UTC)


def _published(item, now: datetime) -> datetime:
    """The entry's date; `now`, the time it was first seen, when it has no plausible one."""
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        # `in` first: feedparser's get("updated_parsed") falls back to published, warning.
        parsed = item.get(name) if name in item else None
        if parsed:
            try:
                when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                continue
            if when < _EARLIEST_DATE:
                continue
            # A date in the future is a feed's clock or time-zone error: use first sight.
            return min(when, now)
    return now

