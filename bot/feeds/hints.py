"""What a feed document says about itself before its items: its `<ttl>` (minutes
between polls it asks for) and its links (a WebSub `hub`, its `self` address). Pure.

Read with the standard library's pull parser over the document's head only (the
channel's own elements come before its items), so it costs a few kilobytes of XML
whatever the feed's size.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

HEAD_BYTES = 32_768
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ITEMS = {"item", "entry"}


@dataclass(frozen=True)
class DocumentHints:
    ttl_minutes: str | None = None
    links: tuple[dict[str, str], ...] = field(default_factory=tuple)


def document_hints(body: bytes) -> DocumentHints:
    """The `<ttl>` and `<link rel=… href=…>` / `<atom:link …>` elements of the feed itself."""
    head = body[:HEAD_BYTES]
    try:
        return _hints(head)
    except (ValueError, LookupError):
        # expat reads no multi-byte declared encoding (Shift_JIS, GB2312) nor unknown
        # ones; what is wanted here is ASCII markup, which a byte-for-byte reading keeps.
        text = _DECLARATION.sub("", head.decode("latin-1"), count=1)
        try:
            return _hints(text)
        except (ValueError, LookupError):
            return DocumentHints()


def _hints(head: bytes | str) -> DocumentHints:
    parser = ET.XMLPullParser(events=("start", "end"))
    ttl: str | None = None
    links: list[dict[str, str]] = []
    depth = 0
    try:
        parser.feed(head)
        for event, element in parser.read_events():
            name = element.tag.rsplit("}", 1)[-1].lower()
            if event == "start":
                depth += 1
                if name in _ITEMS:
                    break  # the items' own links are not the feed's
                if name == "link" and element.get("href"):
                    links.append({"rel": (element.get("rel") or "alternate").lower(),
                                  "href": element.get("href", "").strip()})
            else:
                depth -= 1
                if name == "ttl" and element.text and ttl is None:
                    ttl = element.text.strip()
    except ET.ParseError:
        pass  # a cut-off head (or not XML): what was read before stays
    return DocumentHints(ttl, tuple(links))
