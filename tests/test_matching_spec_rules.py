"""SPEC, Topic queries, rule by rule, each as a property over generated inputs:
text decoded once, queries never decoded, NOT chains, closing quotes, the length
limit, stroked letters, and single-quote phrases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.feeds.parse import parse_entries
from bot.matching.index import TopicQuery, compile_topics
from bot.matching.query import MAX_DEPTH, MAX_QUERY_LENGTH, Not, QueryError, Term, parse_query
from bot.matching.text import normalise, tokenize

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2025, 3, 1, tzinfo=UTC)

# Words that are words in every language's stemmer and never operators.
words = st.text(alphabet="abcdefghijklmnoprstuvwyz", min_size=2, max_size=8)
entities = st.sampled_from(["amp", "lt", "gt", "quot", "eacute", "nbsp", "#39", "#x41"])


def matched(query: str, title: str, summary: str = "", language: str = "en") -> bool:
    index = compile_topics([TopicQuery("t", language, query)])
    return bool(index.match(title, summary, language))


def rss(title_xml: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>'
        f"<item><title>{title_xml}</title><link>https://news.example/1</link></item>"
        "</channel></rss>"
    ).encode()


def atom_text_title(title_xml: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>f</title><entry><id>urn:1</id>"
        f'<title type="text">{title_xml}</title></entry></feed>'
    ).encode()


# ------------------------------------------------------------ text decoded once


@SETTINGS
@given(word=words)
def test_a_title_about_a_tag_matches_the_tag_name(word):
    # "How to center a &lt;div&gt;" reads "How to center a <div>" once decoded;
    # the matcher takes it as it reads and finds the word inside the brackets.
    entry = parse_entries(rss(f"How to center a &amp;lt;{word}&amp;gt;"), None, "en", NOW)[0]
    assert entry.title == f"How to center a <{word}>"
    assert matched(word, entry.title, entry.summary)


@SETTINGS
@given(word=words, entity=entities)
def test_a_plain_text_title_is_decoded_once(word, entity):
    # A title declared as text, XML-decoded once, keeps what looks like an entity.
    entry = parse_entries(atom_text_title(f"{word}&amp;{entity};"), None, "en", NOW)[0]
    assert entry.title == f"{word}&{entity};"


def test_the_worked_example_of_the_spec():
    entry = parse_entries(rss("How to center a &amp;lt;div&amp;gt;"), None, "en", NOW)[0]
    assert matched("div", entry.title, entry.summary)
    assert matched('"center a div"', entry.title, entry.summary)


# ------------------------------------------------------------ queries never decoded


@SETTINGS
@given(left=words, right=words, entity=entities)
def test_a_query_is_never_html_decoded(left, right, entity):
    query = f"{left}&{entity};{right}"
    term = parse_query(query, "en").root
    assert isinstance(term, Term)
    assert term.words == tuple(tokenize(f"{left} {entity} {right}", "en"))
    # It matches the text holding the entity as written, not the decoded character.
    assert matched(query, f"{left}&{entity};{right} today", "")


def test_at_amp_t_is_three_words():
    assert parse_query("AT&amp;T", "en").root.words == ("at", "amp", "t")
    assert not matched("AT&amp;T", "AT&T cuts prices")
    assert matched("AT&amp;T", "AT&amp;T cuts prices")


# ------------------------------------------------------------ NOT chains


@SETTINGS
@given(
    negations=st.integers(0, 220),  # 220 "NOT " and 32 levels fit in 1,000 characters
    spelled=st.sampled_from(["NOT ", "-"]),
    depth=st.integers(0, MAX_DEPTH),
    present=st.booleans(),
)
def test_chains_of_not_do_not_count_against_the_parentheses_limit(
    negations, spelled, depth, present
):
    inner = "(" * depth + "x" + ")" * depth
    query = f"y AND {spelled * negations}{inner}"
    parse_query(query, "en")  # accepted, however long the chain
    title = "y x" if present else "y z"
    # Only the chain's parity counts.
    assert matched(query, title) == (present == (negations % 2 == 0))


@SETTINGS
@given(negations=st.integers(0, 220))
def test_parentheses_beyond_the_limit_are_refused_whatever_the_nots(negations):
    depth = MAX_DEPTH + 1
    with pytest.raises(QueryError, match="nested more than"):
        parse_query("y " + "NOT " * negations + "(" * depth + "x" + ")" * depth, "en")


def test_a_negation_chain_keeps_the_first_operator_position():
    root = parse_query("y NOT NOT NOT x", "en").root
    negated = root.operands[1]
    assert isinstance(negated, Not) and negated.position == 2


# ------------------------------------------------------------ closing quotes

TYPOGRAPHIC = "“”„«»"


@SETTINGS
@given(
    opening=st.sampled_from(TYPOGRAPHIC),
    closing=st.sampled_from(TYPOGRAPHIC),
    phrase=st.lists(words, min_size=1, max_size=4),
)
def test_any_typographic_double_quote_closes_a_phrase_opened_by_any(opening, closing, phrase):
    term = parse_query(f"{opening}{' '.join(phrase)}{closing}", "fr").root
    assert isinstance(term, Term) and term.quoted
    assert term.words == tuple(phrase)


def test_au_104_closed_by_an_english_quote_is_accepted():
    term = parse_query("«au 104”", "fr").root
    assert term.quoted and term.words == ("au", "104")


@SETTINGS
@given(opening=st.sampled_from(TYPOGRAPHIC), phrase=st.lists(words, min_size=1, max_size=3))
def test_a_straight_quote_does_not_close_a_typographic_phrase(opening, phrase):
    with pytest.raises(QueryError, match="unbalanced quote"):
        parse_query(f'{opening}{" ".join(phrase)}"', "fr")


# ------------------------------------------------------------ length limit

spaces = st.text(alphabet=" \t\n\xa0\u2003\u3000", max_size=40)


@SETTINGS
@given(before=spaces, after=spaces, length=st.integers(MAX_QUERY_LENGTH - 5, MAX_QUERY_LENGTH))
def test_the_length_limit_does_not_count_surrounding_spaces(before, after, length):
    assert parse_query(f"{before}{'a' * length}{after}", "en")


@SETTINGS
@given(before=spaces, after=spaces, extra=st.integers(1, 20))
def test_a_query_longer_than_the_limit_without_its_spaces_is_refused(before, after, extra):
    with pytest.raises(QueryError, match="longer than") as caught:
        parse_query(f"{before}{'a' * (MAX_QUERY_LENGTH + extra)}{after}", "en")
    assert caught.value.position == len(before) + MAX_QUERY_LENGTH


# ------------------------------------------------------------ stroked and dotless letters

# Each letter beside its Latin-ASCII transliteration.
STROKED = {
    "ǿ": "o", "Ǿ": "o", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ħ": "h", "ı": "i",
    "ł": "l", "Ł": "l", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ƶ": "z", "ǥ": "g", "ȷ": "j",
    "ɉ": "j", "ɍ": "r", "ɏ": "y", "ƚ": "l", "ȼ": "c", "ɇ": "e", "ʉ": "u", "ɵ": "o",
}


@SETTINGS
@given(word=words, data=st.data())
def test_letters_with_a_stroke_or_without_a_dot_fold_to_their_base_letter(word, data):
    letter = data.draw(st.sampled_from(sorted(STROKED)))
    at = data.draw(st.integers(0, len(word)))
    written = word[:at] + letter + word[at:]
    assert normalise(written) == word[:at] + STROKED[letter] + word[at:]
    assert matched(word[:at] + STROKED[letter] + word[at:], f"news {written} today")


def test_o_with_stroke_and_acute_folds_to_o():
    assert normalise("ǿ") == "o" and normalise("Ǿ") == "o"


# ------------------------------------------------------------ single-quote phrases

SINGLE = [("‘", "’"), ("‚", "‘"), ("‹", "›")]


@SETTINGS
@given(quotes=st.sampled_from(SINGLE), phrase=st.lists(words, min_size=2, max_size=4))
def test_single_quote_pairs_delimit_a_phrase_at_term_edges(quotes, phrase):
    opening, closing = quotes
    term = parse_query(f"x {opening}{' '.join(phrase)}{closing} y", "en").root.operands[1]
    assert isinstance(term, Term) and term.quoted and term.words == tuple(phrase)


@SETTINGS
@given(quotes=st.sampled_from(SINGLE), left=words, right=words)
def test_single_quotes_inside_a_word_are_no_phrase(quotes, left, right):
    opening, closing = quotes
    # Opening mark inside a word, closing mark before a letter: separators only.
    term = parse_query(f"{left}{opening}{right}{closing}{left}", "en").root
    assert isinstance(term, Term) and not term.quoted
    assert term.words == (left, right, left)
