"""A public Telegram channel read through its web preview (t.me/s/CHANNEL): names,
addresses, and the page -> Entry values. Pure: fetching is fetch.py's job.

The preview lists a channel's latest posts (about 20), each in a
`.tgme_widget_message` block whose `data-post` is "CHANNEL/ID". A channel whose
owner disabled the preview (or that does not exist) redirects to its bare
t.me page, which has no message history: that is refused with its reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from bot.feeds import FeedError
from bot.model import Entry

PUBLIC_PREVIEW = "https://t.me/s/"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_ADDRESS = re.compile(r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(?:s/)?([A-Za-z0-9_]+)/?",
                      re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\f\v]+")
TITLE_LIMIT = 200  # a post's first line can be a whole paragraph
# Dates before Telegram existed or far ahead are clock errors: the post is dated when seen.
_EARLIEST = datetime(2013, 8, 1, tzinfo=UTC)


class PreviewUnavailable(FeedError):
    """The channel has no public web preview (disabled by its owner, or no such channel)."""


def channel_name(text: str) -> str | None:
    """The channel a user or config means: "@mash", "mash", "t.me/mash",
    "https://t.me/s/mash"; None when it is none of these."""
    text = text.strip()
    if text.startswith("@"):
        text = text[1:]
    else:
        found = _ADDRESS.fullmatch(text)
        if found:
            text = found.group(1)
        elif "/" in text or "." in text:
            return None
    return text if _NAME.fullmatch(text) else None


def is_channel_url(url: str) -> bool:
    """Whether a feed URL names a Telegram channel's preview (https://t.me/s/CHANNEL)."""
    found = _ADDRESS.fullmatch(url.strip())
    return bool(found) and "/s/" in url and _NAME.fullmatch(found.group(1)) is not None


def channel_url(name: str) -> str:
    """How a channel feed is written in the config and stored: https://t.me/s/NAME."""
    return PUBLIC_PREVIEW + name


def preview_address(url: str, preview_base: str) -> str:
    """Where a channel feed is actually fetched: `polling.telegram_preview_url` + name
    (a mirror, or a local server in tests). Other URLs are returned as they are."""
    if not is_channel_url(url):
        return url
    name = channel_name(url)
    return preview_base.rstrip("/") + "/" + name


def post_link(channel: str, post_id: str) -> str:
    return f"https://t.me/{channel}/{post_id}"


def parse_channel_preview(body: bytes, channel: str, language: str,
                          now: datetime) -> list[Entry]:
    """Every readable post of a preview page, oldest first; PreviewUnavailable when
    the page is not a channel's message history."""
    tree = HTMLParser(body.decode("utf-8", "replace"))
    history = tree.css_first(".tgme_channel_history")
    posts = tree.css(".tgme_widget_message[data-post]")
    if history is None and not posts:
        raise PreviewUnavailable(f"@{channel} has no public web preview on Telegram "
                                 "(disabled by its owner, or no such channel)")
    entries: list[Entry] = []
    seen: set[str] = set()
    for post in posts:
        entry = _entry(post, channel, language, now)
        if entry is not None and entry.key not in seen:
            seen.add(entry.key)
            entries.append(entry)
    return entries


def channel_title(body: bytes) -> str:
    """The channel's name as its preview shows it ("" when the page has none)."""
    node = HTMLParser(body.decode("utf-8", "replace")).css_first(
        ".tgme_channel_info_header_title, .tgme_header_title")
    return node.text(strip=True) if node is not None else ""


def parse_channel_page(body: bytes, content_type: str | None, language: str,
                       now: datetime, url: str) -> list[Entry]:
    """`parse_channel_preview` with parse_entries' signature, for the parse pool: `url`
    is the feed's own (https://t.me/s/CHANNEL), whatever mirror served the page."""
    return parse_channel_preview(body, channel_name(url) or "", language, now)


def _entry(post: Node, channel: str, language: str, now: datetime) -> Entry | None:
    if post.css_first(".service_message") is not None:
        return None  # "channel photo updated", "message pinned": not news
    owner, _, post_id = (post.attributes.get("data-post") or "").partition("/")
    if not post_id.isdigit():
        return None
    link = post_link(owner or channel, post_id)
    lines = _lines(post.css_first(".tgme_widget_message_text"))
    if not lines:
        # A photo or video without a caption: nothing a query can match or a reader
        # can be told, so it is not an entry (its caption, when it has one, is text).
        return None
    title, summary = lines[0], " ".join(lines[1:])
    if len(title) > TITLE_LIMIT:
        cut = title[:TITLE_LIMIT].rsplit(" ", 1)[0]
        title, summary = cut + "…", (title + " " + summary).strip()
    forwarded = post.css_first(".tgme_widget_message_forwarded_from_name")
    if forwarded is not None and forwarded.text(strip=True):
        # A repost says whose words these are, as a wire's byline would.
        summary = (summary + f" (↪ {forwarded.text(strip=True)})").strip()
    return Entry(key=link, link=link, title=title, summary=summary,
                 published=_published(post, now), language=language)


def _lines(node: Node | None) -> list[str]:
    if node is None:
        return []
    # Line breaks are <br> in the preview; they separate the title from the rest.
    for br in node.css("br"):
        br.replace_with("\n")
    text = node.text(separator="")
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return [line for line in lines if line]


def _published(post: Node, now: datetime) -> datetime:
    stamp = post.css_first(".tgme_widget_message_date time[datetime]")
    if stamp is None:
        return now
    try:
        when = datetime.fromisoformat(stamp.attributes.get("datetime") or "")
    except ValueError:
        return now
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    return when if _EARLIEST <= when <= now else now
