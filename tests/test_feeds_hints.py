"""A feed's own <ttl> and links, read from its head (pure)."""

from bot.feeds.hints import HEAD_BYTES, document_hints

RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Wire</title><ttl>15</ttl>
<atom:link rel="hub" href="https://pubsubhubbub.appspot.com/"/>
<atom:link rel="self" href="https://wire.example/rss" type="application/rss+xml"/>
<item><title>One</title><atom:link rel="hub" href="https://not-the-feeds.example/"/></item>
</channel></rss>"""

ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>
<link rel="alternate" href="https://blog.example/"/><link rel="hub" href="https://hub.example/"/>
<entry><title>x</title></entry></feed>"""


def test_rss_ttl_and_atom_links_of_the_channel_only():
    hints = document_hints(RSS)
    assert hints.ttl_minutes == "15"
    assert hints.links == ({"rel": "hub", "href": "https://pubsubhubbub.appspot.com/"},
                           {"rel": "self", "href": "https://wire.example/rss"})


def test_atom_feed_links():
    hints = document_hints(ATOM)
    assert hints.ttl_minutes is None
    assert {"rel": "hub", "href": "https://hub.example/"} in hints.links


def test_broken_or_huge_documents_give_what_their_head_said():
    assert document_hints(b"not xml at all") == document_hints(b"")
    cut = RSS[:RSS.index(b"<atom:link rel=\"self\"")]
    assert document_hints(cut).ttl_minutes == "15"
    padded = RSS.replace(b"<title>Wire</title>", b"<title>" + b"w" * HEAD_BYTES + b"</title>")
    assert document_hints(padded).ttl_minutes is None  # past the head: not read


def test_a_multibyte_or_unknown_declared_encoding_still_gives_its_hints():
    for encoding in ("Shift_JIS", "GB2312", "x-unknown"):
        body = RSS.replace(b'<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>'.encode())
        hints = document_hints(body)
        assert hints.ttl_minutes == "15", encoding
        assert {"rel": "hub", "href": "https://pubsubhubbub.appspot.com/"} in hints.links
