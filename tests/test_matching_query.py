"""The query language: what parses to what, what is refused and where, and the
way back to text that translation relies on."""

import pytest

from bot.matching.query import (
    MAX_QUERY_LENGTH,
    And,
    Not,
    Or,
    QueryError,
    Term,
    format_query,
    map_terms,
    parse_query,
    query_terms,
)


def displays(text, language="en"):
    return [term.display for term in query_terms(parse_query(text, language))]


def test_precedence_is_not_then_and_then_or():
    root = parse_query("a b OR NOT c d", "en").root
    assert isinstance(root, Or)
    left, right = root.operands
    assert isinstance(left, And) and [t.text for t in left.operands] == ["a", "b"]
    assert isinstance(right, And) and isinstance(right.operands[0], Not)


def test_parentheses_override_precedence():
    root = parse_query("(troops OR soldiers) AND ukraine", "en").root
    assert isinstance(root, And)
    assert isinstance(root.operands[0], Or)


def test_leading_minus_negates_a_word_phrase_or_group():
    for text in ("ukraine -russia", 'ukraine -"storm shadow"', "ukraine -(a OR b)"):
        root = parse_query(text, "en").root
        assert isinstance(root, And) and isinstance(root.operands[1], Not), text


@pytest.mark.parametrize(
    "text",
    [
        "“storm shadow”",
        "«storm shadow»",
        "« storm\xa0shadow »",
        "„storm shadow“",
        "„storm shadow”",
        "‹storm shadow›",
        "‘storm shadow’",
        "»storm shadow«",
        '"storm  shadow"',
    ],
)
def test_typographic_quotes_delimit_phrases(text):
    term = parse_query(text, "en").root
    assert isinstance(term, Term) and term.quoted
    assert term.words == ("storm", "shadow") and term.text == "storm shadow"


def test_single_typographic_quotes_inside_words_stay_apostrophes():
    root = parse_query("‘l’Ukraine aujourd’hui’ l’Europe", "fr").root
    assert isinstance(root, And)
    phrase, word = root.operands
    assert phrase.quoted and phrase.words == ("l", "ukraine", "aujourd", "hui")
    assert word.text == "l’Europe" and word.words == ("l", "europe") and not word.quoted


@pytest.mark.parametrize(
    "text", ["ukraine -«russie»", "ukraine -“russie”", "ukraine -„russie“", "ukraine -‘russie’"]
)
def test_a_minus_before_any_term_negates_it(text):
    root = parse_query(text, "fr").root
    assert isinstance(root, And) and isinstance(root.operands[1], Not), text
    assert root.operands[1].operand.words == ("russie",)


def test_a_minus_before_a_typographic_phrase_negates_the_phrase():
    root = parse_query("ukraine -“storm shadow”", "en").root
    negated = root.operands[1]
    assert isinstance(negated, Not) and negated.operand.words == ("storm", "shadow")


def test_every_apostrophe_form_separates_words_in_queries():
    for apostrophe in ("'", "’", "‘", "ʼ"):
        term = parse_query(f"l{apostrophe}Ukraine", "fr").root
        assert term.words == ("l", "ukraine"), apostrophe


def test_phrase_holding_straight_quotes_formats_back():
    query = parse_query('«le "Canard" enchaîné»', "fr")
    assert query.root.text == 'le "Canard" enchaîné'
    assert parse_query(format_query(query), "fr") == query


def test_limits_are_inclusive():
    assert parse_query("(" * 32 + "a" + ")" * 32, "en")
    assert parse_query(" ".join(["w"] * 100), "en")
    assert parse_query("a" * MAX_QUERY_LENGTH, "en")
    with pytest.raises(QueryError, match="nested more than 32"):
        parse_query("(" * 33 + "a" + ")" * 33, "en")


def test_operators_are_recognised_in_upper_case_only():
    # French "or" (gold) and Russian "и" (and) are ordinary words.
    root = parse_query("prix or", "fr").root
    assert isinstance(root, And) and [t.text for t in root.operands] == ["prix", "or"]
    assert displays("войска и техника", "ru") == ["войска", "и", "техника"]
    assert displays("not and", "en") == ["not", "and"]


def test_hyphenated_term_is_the_phrase_of_its_parts():
    term = parse_query("Storm-Shadow", "en").root
    assert isinstance(term, Term) and term.words == ("storm", "shadow") and not term.prefix
    assert term.display == "Storm-Shadow"


def test_terms_are_displayed_as_written():
    assert displays('ukraine "storm shadow" europ* -Russie', "fr") == [
        "ukraine",
        '"storm shadow"',
        "europ*",
        "Russie",
    ]


def test_prefix_is_normalised_not_stemmed():
    term = parse_query("Europ*", "fr").root
    assert term.prefix and term.words == ("europ",)


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty query", 0),
        ("   ", "empty query", 0),
        ("(troops OR soldiers AND ukraine", "unbalanced parenthesis", 0),
        ("troops) ukraine", "unbalanced parenthesis", 6),
        ('ukraine "storm shadow', "unbalanced quote", 8),
        ("ukraine AND", "dangling operator AND", 8),
        ("OR ukraine", "dangling operator OR", 0),
        ("ukraine OR OR russia", "dangling operator OR", 8),
        ("ukraine NOT", "dangling operator NOT", 8),
        ("ukraine -", "dangling operator -", 8),
        ("ukraine ()", "empty parentheses", 8),
        ('ukraine ""', "empty phrase", 8),
        ("NOT ukraine", "matches entries without any of its terms", 0),
        ("-ukraine", "matches entries without any of its terms", 0),
        ("ukraine OR NOT russia", "matches entries without any of its terms", 11),
        ("NOT (a AND b)", "matches entries without any of its terms", 0),
        ("eu*rope", "'*' is only allowed at the end of a word", 2),
        ("e*", "prefix* needs at least 2 letters", 0),
        ("l'europ*", "prefix* must be a single word", 0),
        ("ukraine …", "has no letters or digits", 8),
        ("ukraine «russie", "unbalanced quote", 8),
        ("ukraine russie»", "unbalanced quote", 14),
        ("-«russie»", "matches entries without any of its terms", 0),
        ("ukraine OR -“x y”", "matches entries without any of its terms", 11),
        ("europ-*", "'*' is only allowed at the end of a word", 6),
        ("ukraine *", "'*' is only allowed at the end of a word", 8),
        ("*europ", "'*' is only allowed at the end of a word", 0),
        ('"europ* union"', "a prefix* cannot be inside a phrase", 6),
        ("lʼeurop*", "prefix* must be a single word", 0),
        ("l’europ*", "prefix* must be a single word", 0),
        ("ukraine -)", "dangling operator -", 8),
    ],
)
def test_malformed_queries_are_refused_with_their_position(text, message, position):
    with pytest.raises(QueryError) as caught:
        parse_query(text, "en")
    assert message in caught.value.message
    assert caught.value.position == position
    assert str(caught.value) == f"{caught.value.message} at position {position}"


def test_double_negation_is_a_required_term():
    assert displays("NOT NOT ukraine") == ["ukraine"]


def test_over_long_and_over_large_queries_are_refused():
    with pytest.raises(QueryError, match="longer than"):
        parse_query("a" * (MAX_QUERY_LENGTH + 1), "en")
    with pytest.raises(QueryError, match="more than 100 terms") as caught:
        parse_query(" ".join(["w"] * 101), "en")
    assert caught.value.position == 200
    with pytest.raises(QueryError, match="nested"):
        parse_query("(" * 40 + "a" + ")" * 40, "en")


def test_pathological_input_is_refused():
    # How fast is printed by benchmarks/query_parsing.py.
    for text in (
        "(" * 999,
        "NOT " * 250,
        '"' * 999,
        "a OR " * 199 + "a",
        "-" * 999,
        "‘a " * 333,
        "«" * 999,
        "‘" * 999,
    ):
        with pytest.raises(QueryError):
            parse_query(text, "en")


@pytest.mark.parametrize(
    "text",
    [
        "(troops OR soldiers) AND ukraine",
        '"storm shadow" OR scalp-eg',
        "europ* -russie",
        "a AND NOT (b OR c) AND (d OR e f)",
        "NOT NOT x",
        "войска AND украина",
        "l'Ukraine",
        "ukraine -«russie»",
        "«storm shadow» OR „x y“",
        "‘l’Ukraine’",
        "lʼUkraine",
    ],
)
def test_formatted_query_parses_back_to_the_same_query(text):
    query = parse_query(text, "en")
    assert parse_query(format_query(query), "en") == query


def test_map_terms_keeps_structure_and_operators():
    translations = {
        "troops": "troupes",
        "soldiers": "soldats",
        "ukraine": "Ukraine",
        "russia": "Russie",
    }
    query = parse_query("(troops OR soldiers) AND ukraine -russia", "en")
    seen = []

    def translate(text):
        seen.append(text)
        return translations[text]

    mapped = map_terms(query, translate, "fr")
    assert seen == ["troops", "soldiers", "ukraine", "russia"]
    assert mapped.language == "fr"
    assert format_query(mapped) == "(troupes OR soldats) AND Ukraine AND NOT Russie"
    assert parse_query(format_query(mapped), "fr") == mapped


def test_map_terms_gives_prefixes_without_star_and_quotes_what_needs_it():
    query = parse_query('europ* AND "storm shadow" AND bank', "en")
    mapped = map_terms(
        query, {"europ": "европ", "storm shadow": "Шторм Шэдоу", "bank": "OR"}.__getitem__, "ru"
    )
    assert format_query(mapped) == 'европ* AND "Шторм Шэдоу" AND "OR"'
    assert parse_query(format_query(mapped), "ru") == mapped


def test_map_terms_keeps_a_translated_prefix_readable():
    # A translation ending in a separator would write back as `europ-*`, refused.
    mapped = map_terms(parse_query("europ* AND x", "en"), {"europ": "europ-", "x": "x"}.get)
    assert format_query(mapped) == "europ* AND x"
    assert parse_query(format_query(mapped), "en") == mapped


def test_map_terms_turns_a_multi_word_translation_into_a_phrase():
    mapped = map_terms(
        parse_query("troops OR army*", "en"),
        {"troops": 'troupes "au sol"', "army": "forces armées"}.get,
    )
    terms = query_terms(mapped)
    assert [t.words for t in terms] == [("troupes", "au", "sol"), ("forces", "armees")]
    assert not any(t.prefix for t in terms)
    assert parse_query(format_query(mapped), "en") == mapped


def test_map_terms_refuses_a_term_translated_to_nothing():
    with pytest.raises(QueryError, match="became empty") as caught:
        map_terms(
            parse_query("ukraine AND troops", "en"), lambda text: "" if text == "troops" else text
        )
    assert caught.value.position == 12
