"""The one HTML-to-text reading, as feed summaries, matching and the console use it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.markup import html_to_text


@pytest.mark.parametrize("markup, text", [
    ("<p>A&nbsp;<b>bold</b>\n\n move</p><style>p{}</style>&amp; more", "A bold move & more"),
    ("<b>Ukr</b>aine", "Ukraine"),  # inline markup is not a word break
    ("<p>Kyiv</p><p>Paris</p>", "Kyiv Paris"),  # blocks are
    ("one<br>two<br/>three", "one two three"),
    ("a < b and c > d", "a < b and c > d"),  # not tags
    ("<script>var s = '</p>';</script>after", "after"),
    ("<!-- <b>hidden</b> -->shown", "shown"),
    ("<![CDATA[x]]>y", "y"),
    ("caf&eacute; &#233; &#xE9; &bogus;", "café é é &bogus;"),
    ("AT&T, Q&A", "AT&T, Q&A"),
    ("<title>page</title><h1>Head</h1>line", "Head line"),
    ("unclosed <b", "unclosed <b"),  # never closed: text, as a browser shows it
    ("CDATA--><![<!&", "CDATA--><![<!&"),  # html.parser asserts on this; read as text
])
def test_html_becomes_the_text_a_reader_sees(markup, text):
    assert html_to_text(markup) == text


def test_unfolded_text_keeps_every_space_and_line():
    assert html_to_text("<b>x</b>\n\n<i>y</i>  &lt;3", fold=False) == "x\n\ny  <3"
    plain = "no markup,\n  kept as is "
    assert html_to_text(plain, fold=False) is plain


@given(st.lists(st.sampled_from(list("<>&#;![]-/'\"= ab\n") + [
    "<!--", "-->", "<![", "]]>", "CDATA", "<script>", "</script>", "&#55357;", "<p>"]),
    max_size=40).map("".join))
def test_any_input_gives_text_and_never_raises(markup):
    assert isinstance(html_to_text(markup), str)
    assert isinstance(html_to_text(markup, fold=False), str)
