"""Feed bytes -> immutable Entry values via feedparser; pure, no I/O."""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from bot.feeds import FeedError
from bot.model import Entry

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "xtor", "xtref", "cmp", "ito", "ocid", "mkt_tok", "wt.mc_id",
    "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
    "at_medium", "at_campaign", "at_platform", "at_send_date", "at_creation",
    "at_link_id", "at_link_origin", "at_link_type", "at_ptr_name", "at_recipient_id",
    "at_recipient_list", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
})
TRACKING_PREFIXES = ("utm_",)
NOT_XML_TYPES = ("text/html", "text/plain", "application/json", "image/", "application/pdf")
_SPACE = re.compile(r"\s+")
# Regular expressions rather than an HTML parser: summaries only need their words,
# and this is several times faster on full-content feeds.
_INVISIBLE = re.compile(r"<(script|style|head|title)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")
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
    headers = {"content-type": content_type or "application/xml"}
    if url:
        headers["content-location"] = url
    try:
        doc = feedparser.parse(body, response_headers=headers, sanitize_html=False,
                               resolve_relative_uris=False)
    except Exception as exc:  # feedparser is meant never to raise; a bad byte may still
        raise ParseError(f"unparsable feed: {_one_line(exc)}") from None
    problem = _document_problem(doc, content_type)
    if problem:
        raise ParseError(problem)

    entries: list[Entry] = []
    seen: set[str] = set()
    for item in doc.entries:
        entry = _entry(item, language, now, url)
        if not (entry.title or entry.summary or entry.link):
            continue  # an empty shell (illegal nesting, stray tags): nothing to show
        if entry.key not in seen:
            seen.add(entry.key)
            entries.append(entry)
    return entries


def _document_problem(doc, content_type: str | None) -> str | None:
    exc = doc.get("bozo_exception")
    message = _one_line(exc) if exc is not None else ""
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
    link = canonical_link(_absolute(item.get("link", "") or "", base_url))
    guid = (item.get("id") or "").strip()
    if guid:
        key = guid
    elif link:
        key = link
    else:
        digest = hashlib.sha256(f"{title}\n{summary}".encode("utf-8", "surrogatepass"))
        key = "sha256:" + digest.hexdigest()[:32]
    return Entry(key=key, link=link, title=repair_mojibake(title),
                 summary=repair_mojibake(summary),
                 published=_published(item, now), language=language)


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
    return plain_text(value)


def _text_value(value: str) -> str:
    # Plain-text fields still arrive with escaped entities (`&amp;eacute;`) in the wild.
    return _SPACE.sub(" ", html.unescape(value)).strip()


def plain_text(markup: str) -> str:
    """HTML -> text: tags, scripts and comments dropped, entities decoded, whitespace folded."""
    if "<" in markup:
        markup = _TAG.sub(" ", _INVISIBLE.sub(" ", markup))
    return _text_value(markup)


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


def canonical_link(url: str) -> str:
    """The link with tracking parameters and fragment removed, scheme and host lower-cased."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/",
                       urlencode(query, doseq=True), ""))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _absolute(link: str, base_url: str) -> str:
    link = link.strip()
    if not link or not base_url or urlsplit(link).scheme:
        return link
    return urljoin(base_url, link)


def _published(item, now: datetime) -> datetime:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = item.get(name)
        if parsed:
            try:
                when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                continue
            # A date in the future is a feed's clock or time-zone error: use first sight.
            return min(when, now)
    return now


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return _SPACE.sub(" ", text).strip()[:200]
