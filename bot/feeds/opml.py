"""OPML feed lists in and out (/export, /import), with the stdlib only.

Reading refuses any DOCTYPE: without one, expat cannot expand entities, so
billion-laughs and external-entity documents never get parsed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.parsers import expat

# What XML 1.0 cannot carry at all, not even as a character reference: C0 controls
# but tab, newline and return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class OpmlError(ValueError):
    """The document is not an OPML file we accept; str() says why in one line."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str = ""
    language: str = ""  # only when the outline says so; /import's LANG wins


def read_opml(data: bytes) -> list[OpmlFeed]:
    """Every outline with an xmlUrl, in document order, duplicates dropped."""
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    root: list[str] = []

    def refuse_doctype(*_args) -> None:
        raise OpmlError("DOCTYPE declarations are not accepted")

    def start(tag: str, attrs: dict[str, str]) -> None:
        if not root:
            root.append(tag)
        if tag != "outline":
            return
        url = (attrs.get("xmlUrl") or attrs.get("xmlurl") or "").strip()
        if url and url not in seen:
            seen.add(url)
            title = (attrs.get("title") or attrs.get("text") or "").strip()
            language = (attrs.get("language") or "").strip().lower()
            feeds.append(OpmlFeed(url=url, title=title, language=language))

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    parser.ExternalEntityRefHandler = refuse_doctype
    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(f"not well-formed XML: {expat.ErrorString(exc.code)} "
                        f"at line {exc.lineno}") from None
    if root != ["opml"]:
        raise OpmlError("not an OPML document (no <opml> root)")
    return feeds


@dataclass(frozen=True)
class OpmlOutline:
    url: str
    title: str
    language: str


def write_opml(feeds: list[OpmlOutline], title: str = "coverage-bot feeds") -> bytes:
    """An OPML 2.0 document, one rss outline per feed (ElementTree escapes attributes;
    characters XML cannot hold, such as a control character in a feed's name, are left
    out, so the file is well-formed and /import reads it back)."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = _xml_text(title)
    body = ET.SubElement(opml, "body")
    for feed in feeds:
        url, name = _xml_text(feed.url), _xml_text(feed.title)
        ET.SubElement(body, "outline", type="rss", text=name or url, title=name or url,
                      xmlUrl=url, language=_xml_text(feed.language))
    ET.indent(opml)
    return ET.tostring(opml, encoding="utf-8", xml_declaration=True) + b"\n"


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)
