"""Parsing: feed bytes and Content-Type in, plain-text Entry values out (no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fakes.feeds import CORPUS, fixture

from bot.feeds.parse import ParseError, parse_entries
from bot.links import canonical_link, published_link
from bot.markup import html_to_text
from bot.matching.index import TopicQuery, compile_topics

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
    # Shown as published (SPEC: only tracking parameters go); the identity drops the fragment.
    assert entries[1].link.endswith("scalp_2.html#commentaires")
    assert entries[1].alert_key.endswith("scalp_2.html")
    assert entries[1].key == entries[1].alert_key  # no guid: the canonical link is the key


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


def test_html_to_text_strips_tags_scripts_and_entities():
    assert html_to_text("<p>A&nbsp;<b>bold</b>\n\n move</p><style>p{}</style>&amp; more") \
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


# -- hostile bytes: damage stays where it is ------------------------------------------


def rss(items: list[tuple[str, str]], encoding: str | None = "utf-8") -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>' if encoding else ""
    body = "".join(f"<item><title>{t}</title><link>https://news.example/{i}</link>"
                   f"<description>{d}</description></item>" for i, (t, d) in enumerate(items))
    return f'{declaration}<rss version="2.0"><channel><title>Лента</title>{body}</channel></rss>'


RUSSIAN = [(f"Войска НАТО на Украине: сообщение {i}", f"Российские войска и Украина, день {i}")
           for i in range(10)]


def test_surrogate_pair_references_cost_nothing_and_lone_ones_only_a_character():
    items = [("Смайл &#55357;&#56832; и &#xD83D;&#xDE00;", "один &#56832; два"),
             *RUSSIAN[:2]]
    entries = parse_entries(rss(items).encode(), "application/rss+xml", "ru", NOW)
    assert [e.title for e in entries] == ["Смайл 😀 и 😀", *[t for t, _ in RUSSIAN[:2]]]
    assert entries[0].summary == "один \ufffd два"


def test_one_bad_byte_in_a_utf8_feed_damages_one_character_not_the_document():
    body = rss(RUSSIAN).encode()
    cut = body.index("день 3".encode())
    damaged = body[:cut] + "д".encode()[:1] + body[cut:]  # a truncated two-byte character
    entries = parse_entries(damaged, "application/rss+xml; charset=utf-8", "ru", NOW)
    assert [e.title for e in entries] == [t for t, _ in RUSSIAN]
    assert entries[3].summary == "Российские войска и Украина, \ufffdдень 3"
    index = compile_topics([TopicQuery(topic="t", language="ru", query="войска AND украина")])
    assert sum(1 for e in entries if index.match(e.title, e.summary, "ru")) == 10


@pytest.mark.parametrize("charset", ["cp1251", "koi8-r"])
def test_undeclared_cyrillic_charsets_are_detected(charset):
    body = rss(RUSSIAN, encoding=None).encode(charset)
    entries = parse_entries(body, "application/rss+xml", "ru", NOW)
    assert [e.title for e in entries] == [t for t, _ in RUSSIAN]


def test_a_header_charset_the_bytes_contradict_yields_to_the_xml_declaration():
    body = rss(RUSSIAN, encoding="windows-1251").encode("cp1251")
    entries = parse_entries(body, "application/rss+xml; charset=utf-8", "ru", NOW)
    assert [e.title for e in entries] == [t for t, _ in RUSSIAN]


def test_links_are_kept_as_published_minus_tracking():
    link = "https://news.example/a?id=1&amp;ref=o'brien&amp;utm_source=rss&amp;q=caf%C3%A9"
    body = (f'<rss version="2.0"><channel><item><title>t</title><link>{link}</link>'
            "</item></channel></rss>").encode()
    [entry] = parse_entries(body, "application/rss+xml", "en", NOW)
    assert entry.link == "https://news.example/a?id=1&ref=o'brien&q=caf%C3%A9"
    assert entry.alert_key == "https://news.example/a?id=1&ref=o%27brien&q=caf%C3%A9"


@pytest.mark.parametrize("raw, shown", [
    ("https://a.example/x?utm_source=rss&ID=3&b=%2F", "https://a.example/x?ID=3&b=%2F"),
    ("HTTPS://WWW.Example.org/A?xtor=RSS-3208", "HTTPS://WWW.Example.org/A"),
    ("https://a.example/x#xtor=RSS-3208", "https://a.example/x"),
    ("https://a.example/x#section-2", "https://a.example/x#section-2"),
    ("https://a.example/x?a=1&&b=2", "https://a.example/x?a=1&&b=2"),  # untouched: no tracking
    ("https://a.example/x?a=1&&utm_medium=f", "https://a.example/x?a=1"),
])
def test_published_links_lose_only_tracking_parameters(raw, shown):
    assert published_link(raw) == shown
