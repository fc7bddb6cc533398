"""Feed bytes in the right character set before feedparser reads them (pure).

feedparser tries the declared charset and, at the first invalid byte, falls back
to windows-1252 or ISO-8859-2 for the whole document: one truncated character
in one description turns every Russian title into `Đ’ĐžĐšŃ…`, and an undeclared
windows-1251 or KOI8-R feed is mojibake from end to end. Here a document whose
bytes do not decode as declared is decoded before feedparser sees it:

- declared charset right but a few bytes damaged (far more valid non-ASCII
  characters than invalid sequences): the declared charset, with U+FFFD for the
  damage only;
- nothing declared, or a declaration the bytes plainly contradict: the charset
  charset-normalizer finds.

benchmarks/charset.py measures both remedies on the corpus.
"""

from __future__ import annotations

import codecs
import re

_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
# UTF-16/32, with or without a BOM: feedparser's own detection handles them.
_WIDE_STARTS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE,
                codecs.BOM_UTF16_BE, b"<\x00?\x00", b"\x00<\x00?", b"<\x00\x00\x00",
                b"\x00\x00\x00<")
DAMAGE_RATIO = 2  # valid non-ASCII characters per invalid sequence, at least, to call it damage
# The legacy charsets a feed in each language is written in, for the detector to choose
# from (with UTF-8): unconstrained, it reads German Latin-1 as cp775.
LEGACY_CHARSETS = {
    "ru": ("cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp866", "mac_cyrillic"),
    "fr": ("cp1252", "iso8859_15", "latin_1"),
    "en": ("cp1252", "latin_1"),
}


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """The charsets the response declares, as Python codec names, strongest first: the
    BOM, then the HTTP header (which wins for XML served over HTTP), then the XML
    declaration."""
    names = []
    if body.startswith(codecs.BOM_UTF8):
        names.append("utf-8")
    if content_type and (m := _HTTP_CHARSET.search(content_type)):
        names.append(m.group(1))
    if m := _XML_ENCODING.match(body[:500]):
        names.append(m.group(1).decode("ascii"))
    found: list[str] = []
    for name in names:
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            continue  # a charset Python does not know: as good as none
        if codec not in found:
            found.append(codec)
    return found


def declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The strongest declared charset, or None."""
    found = declared_charsets(body, content_type)
    return found[0] if found else None


def normalise_charset(body: bytes, content_type: str | None,
                      language: str | None = None) -> tuple[bytes, str | None]:
    """(body, content_type) for feedparser: unchanged when the bytes decode as declared
    (or as UTF-8 when nothing is declared); otherwise re-encoded as UTF-8 with the
    content type saying so. `language` (the feed's) narrows what a detector may guess."""
    if body.startswith(_WIDE_STARTS):
        return body, content_type
    declared = declared_charsets(body, content_type) or ["utf-8"]
    for i, charset in enumerate(declared):
        try:
            text = body.decode(charset)
        except UnicodeDecodeError:
            continue
        if i == 0:
            return body, content_type
        return _as_utf8(text, content_type)  # the header lied, the XML declaration did not
    text = _damaged(body, declared[0])
    if text is None:
        text = _detected(body, language)
    return _as_utf8(text, content_type)


def _as_utf8(text: str, content_type: str | None) -> tuple[bytes, str]:
    media = (content_type or "application/xml").split(";")[0].strip() or "application/xml"
    utf8 = text.encode("utf-8")
    if m := _XML_ENCODING.match(utf8[:500]):  # the declaration must not contradict the bytes
        utf8 = utf8[:m.start(1)] + b"utf-8" + utf8[m.end(1):]
    return utf8, f"{media}; charset=utf-8"


def _damaged(body: bytes, charset: str) -> str | None:
    """The document in `charset` with its few invalid sequences replaced, if the bytes
    are that charset with a little damage; None if they are something else."""
    text = body.decode(charset, "replace")
    clean = body.decode(charset, "ignore")
    invalid = text.count("\ufffd") - clean.count("\ufffd")
    valid = sum(1 for c in clean if c > "\x7f")
    return text if valid >= DAMAGE_RATIO * max(invalid, 1) else None


def _detected(body: bytes, language: str | None = None) -> str:
    # Imported when first needed: most feeds never are, and every parse worker
    # would otherwise pay for the import at its start.
    import charset_normalizer

    legacy = LEGACY_CHARSETS.get(language or "")
    best = charset_normalizer.from_bytes(
        body, cp_isolation=["utf_8", *legacy] if legacy else None).best()
    if best is None:
        return body.decode("utf-8", "replace")
    return str(best)
