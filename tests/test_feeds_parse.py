"""Parsing: feed bytes and Content-Type in, plain-text Entry values out (no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes.feeds import CORPUS, fixture

from bot.feeds.parse import ParseError, canonical_link, parse_entries, plain_text

NOW = datetime(2024, 11, 25, 12, 0, tzinfo=UTC)
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(),
                                  reason=f"feed corpus not found at {CORPUS}")


def test_french_rss_becomes_plain_text_entries_with_canonical_links():
    entries = parse_entries(fixture("fr-monde.xml"), "application/rss+xml", "fr", NOW)
    assert [e.title for e in entries] == [
        "Guerre en Ukraine : Paris n'exclut plus l'envoi de troupes",
        "Missiles SCALP-EG : Kiev frappe en Russie & l’Europe s'inquiète",
        "Oreshnik : ce que l'on sait du nouveau missile russe",
    ]
    first = entries[0]
    assert first.key == "lemonde-6414061"
    assert first.link == ("https://www.lemonde.fr/international/article/2024/11/25/"
                          "guerre-en-ukraine_1.html")
    assert first.summary == "Le président a évoqué l’envoi de soldats européens & britanniques."
    assert first.published == datetime(2024, 11, 25, 7, 15, tzinfo=UTC)
    assert all(e.language == "fr" for e in entries)
    assert entries[1].summary == "Des missiles Storm Shadow ont été tirés."
    assert entries[1].link.endswith("scalp_2.html")  # fragment dropped
    assert entries[1].key == entries[1].link  # no guid: the canonical link is the key


def test_missing_publication_time_is_first_seen_time():
    entries = parse_entries(fixture("fr-monde.xml"), "application/rss+xml", "fr", NOW)
    assert entries[2].published == NOW


def test_atom_entries_with_html_titles_and_offsets_in_utc():
    entries = parse_entries(fixture("en-bbc.atom.xml"), "application/atom+xml", "en", NOW)
    assert [e.key for e in entries[:2]] == ["urn:bbc:c0e8y1kx", "urn:bbc:c4g9z2"]
    assert entries[0].link == "https://www.bbc.com/news/articles/c0e8y1kx"
    assert entries[0].summary == "Kyiv used the long-range missiles for the first time."
    assert entries[1].published == datetime(2024, 11, 22, 4, 0, tzinfo=UTC)
    assert entries[1].title == 'Putin says Oreshnik missile "cannot be intercepted"'
    assert entries[2].key == "https://www.bbc.com/news/articles/c9troops"


@pytest.mark.parametrize("name", ["ru-cp1251.xml", "ru-koi8r.xml"])
def test_declared_russian_encodings_decode(name):
    entries = parse_entries(fixture(name), "application/rss+xml", "ru", NOW)
    assert entries[0].title.startswith("Удар по Днепру: Путин назвал новую ракету")
    assert entries[1].summary == "Ёлки, щи и йогурт: проверка кодировки."
    assert entries[0].link.endswith("/1?id=7")  # utm_* gone, the real parameter kept


def test_charset_from_the_header_when_the_document_declares_none():
    body = fixture("ru-cp1251.xml").replace(b' encoding="windows-1251"', b"")
    entries = parse_entries(body, "application/xml; charset=windows-1251", "ru", NOW)
    assert entries[1].title == "Войска НАТО на Украине: позиция Франции"


def test_wrong_encoding_declaration_gives_entries_not_an_exception():
    body = fixture("ru-cp1251.xml").replace(b'encoding="windows-1251"', b'encoding="utf-8"')
    entries = parse_entries(body, "application/rss+xml", "ru", NOW)
    assert len(entries) == 2 and all(e.title for e in entries)


def test_key_falls_back_to_a_content_hash_without_guid_or_link():
    body = (b"<rss version='2.0'><channel><title>t</title><item><title>Only a title</title>"
            b"<description>and words</description></item></channel></rss>")
    [entry] = parse_entries(body, None, "en", NOW)
    assert entry.key.startswith("sha256:") and entry.link == ""
    assert parse_entries(body, None, "en", NOW)[0].key == entry.key


def test_future_dates_are_clamped_to_now():
    body = (b"<rss version='2.0'><channel><title>t</title><item><title>x</title>"
            b"<link>http://a.example/x</link><pubDate>Tue, 01 Jan 2030 00:00:00 GMT</pubDate>"
            b"</item></channel></rss>")
    assert parse_entries(body, None, "en", NOW)[0].published == NOW


def test_an_html_page_is_not_a_feed():
    with pytest.raises(ParseError, match=r"^not a feed \(text/html\)$"):
        parse_entries(fixture("page.html"), "text/html; charset=utf-8", "en", NOW)


def test_truncated_xml_is_refused():
    body = fixture("fr-monde.xml")
    with pytest.raises(ParseError, match="^truncated XML"):
        parse_entries(body[: len(body) // 2], "application/rss+xml", "fr", NOW)


def test_relative_links_resolve_against_the_feed_url():
    body = (b"<rss version='2.0'><channel><title>t</title><item><title>x</title>"
            b"<link>/news/1</link></item></channel></rss>")
    [entry] = parse_entries(body, None, "en", NOW, "https://example.org/rss/feed.xml")
    assert entry.link == "https://example.org/news/1"


@pytest.mark.parametrize("raw, canonical", [
    ("https://a.example/x?utm_source=rss&utm_medium=f&id=3", "https://a.example/x?id=3"),
    ("HTTPS://WWW.Example.org/A?xtor=RSS-3208", "https://www.example.org/A"),
    ("https://a.example/x?fbclid=1&gclid=2#top", "https://a.example/x"),
    ("https://a.example", "https://a.example/"),
    ("mailto:someone@example.org", "mailto:someone@example.org"),
])
def test_canonical_links_drop_tracking(raw, canonical):
    assert canonical_link(raw) == canonical


def test_plain_text_strips_tags_scripts_and_entities():
    assert plain_text("<p>A&nbsp;<b>bold</b>\n\n move</p><style>p{}</style>&amp; more") \
        == "A bold move & more"


@needs_corpus
@pytest.mark.parametrize("language", ["fr", "en", "ru"])
def test_real_corpus_feeds_parse_with_titles_and_links(language):
    files = sorted((CORPUS / "feeds" / language).glob("*.xml"))
    assert files
    total = 0
    for path in files:
        entries = parse_entries(path.read_bytes(), "application/xml", language, NOW)
        total += len(entries)
        for entry in entries:
            assert entry.language == language
            assert entry.title or entry.summary, path.name
            assert "<" not in entry.title or ">" not in entry.title, (path.name, entry.title)
    assert total > 300
    print(f"{language}: {len(files)} corpus feeds, {total} entries")


@needs_corpus
def test_every_feedparser_test_file_becomes_entries_or_a_one_line_error():
    files = [p for p in sorted((CORPUS / "feedparser-tests").rglob("*")) if p.is_file()]
    parsed = refused = entries = 0
    for path in files:
        try:
            entries += len(parse_entries(path.read_bytes(), None, "en", NOW,
                                         "http://example.org/feed"))
            parsed += 1
        except ParseError as exc:
            assert "\n" not in str(exc)
            refused += 1
    print(f"feedparser-tests: {len(files)} files, {parsed} parsed ({entries} entries), "
          f"{refused} refused with a one-line error")
    assert parsed + refused == len(files) > 2000


def test_parsing_needs_no_event_loop_or_network():
    # Pure: same input, same output.
    body = fixture("en-bbc.atom.xml")
    assert parse_entries(body, None, "en", NOW) == parse_entries(body, None, "en", NOW)
