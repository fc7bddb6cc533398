"""Properties over random queries and texts: the index agrees with the plain
evaluator, edits agree with a fresh compile, and no string breaks the parser."""

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.matching.index import TopicQuery, compile_topics
from bot.matching.query import QueryError, format_query, parse_query
from bot.matching.reference import ReferenceMatcher

# Inflected forms, accents, ё, ligatures, stress marks, invisible characters,
# hyphens and apostrophes of every form, so stems, prefixes and phrases all get
# exercised; small enough that random texts hit random queries.
VOCABULARY = {
    "en": [
        "ukraine",
        "ukraine's",
        "troops",
        "troop",
        "storm",
        "shadow",
        "storm-shadow",
        "europe",
        "europeans",
        "the",
        "missile",
        "missiles",
        "russia",
        "l'ukraine",
        "lʼukraine",
        "ukrai\u00adne",
        "straße",
    ],
    "fr": [
        "troupe",
        "troupes",
        "soldats",
        "européens",
        "europe",
        "l'ukraine",
        "ukraine",
        "scalp-eg",
        "scalp",
        "or",
        "de",
        "frappes",
        "été",
        "ete",
        "œuvre",
        "oeuvre",
        "l’europe",
    ],
    "ru": [
        "украина",
        "украину",
        "украине",
        "войска",
        "ёлка",
        "елка",
        "йога",
        "иога",
        "санкт-петербург",
        "и",
        "военные",
        "россия",
        "россии",
        "украи\u0301на",
        "мʼясо",
    ],
}
PHRASE_QUOTES = [('"', '"'), ("«", "»"), ("“", "”"), ("„", "“"), ("‘", "’"), ("‹", "›")]


def _one_word(word):
    """The word with its separators dropped, so that it can take a `*`."""
    return "".join(char for char in word if char.isalpha() and char != "ʼ")


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

languages = st.sampled_from(sorted(VOCABULARY))


@st.composite
def queries(draw, language):
    words = VOCABULARY[language]

    def term():
        kind = draw(st.integers(0, 4))
        word = draw(st.sampled_from(words))
        if kind == 0:
            opening, closing = draw(st.sampled_from(PHRASE_QUOTES))
            return f"{opening}{word} {draw(st.sampled_from(words))}{closing}"
        if kind == 1:
            return _one_word(word)[: draw(st.integers(2, 6))] + "*"
        return word

    def expression(depth):
        if depth == 0 or draw(st.integers(0, 2)) == 0:
            return term()
        shape = draw(st.sampled_from(["and", "implicit", "or", "not", "minus", "group"]))
        left, right = expression(depth - 1), expression(depth - 1)
        return {
            "and": f"{left} AND {right}",
            "implicit": f"{left} {right}",
            "or": f"{left} OR {right}",
            "not": f"{left} AND NOT {right}",
            "minus": f"{left} -{right}" if not right.startswith("-") else f"{left} {right}",
            "group": f"({left} OR {right}) {term()}",
        }[shape]

    return expression(3)


@st.composite
def texts(draw, language):
    words = draw(
        st.lists(st.sampled_from(VOCABULARY[language] + ["zzz", "Ukrainebank"]), max_size=12)
    )
    separators = draw(
        st.lists(
            st.sampled_from([" ", "-", "’", ", ", " — ", "'", "ʼ", "‘", "\u200b", "\xa0"]),
            min_size=len(words),
            max_size=len(words),
        )
    )
    return "".join(
        word.upper() if i % 3 == 0 else word
        for i, word in enumerate(token for pair in zip(words, separators) for token in pair)
    )


@st.composite
def scenario(draw):
    language = draw(languages)
    topics = []
    for number in range(draw(st.integers(1, 8))):
        text = draw(queries(language))
        try:
            parse_query(text, language)
        except QueryError:
            continue  # random shapes can be pure negations; those are refused
        topics.append(TopicQuery(f"t{number}", language, text))
    assume(topics)
    entries = draw(st.lists(st.tuples(texts(language), texts(language)), min_size=1, max_size=6))
    return language, topics, entries


@SETTINGS
@given(scenario())
def test_index_agrees_with_the_reference_evaluator(case):
    language, topics, entries = case
    index = compile_topics(topics)
    reference = ReferenceMatcher(topics)
    for title, summary in entries:
        assert index.match(title, summary, language) == reference.match(title, summary, language)


@SETTINGS
@given(scenario(), st.data())
def test_edited_index_agrees_with_a_fresh_compile(case, data):
    language, topics, entries = case
    index = compile_topics(topics)
    replaced = data.draw(st.sampled_from(topics))
    new_text = data.draw(queries(language))
    try:
        parse_query(new_text, language)
    except QueryError:
        new_text = "missile OR ukraine OR украина OR troupe"
    edited = index.with_topic(replaced.topic, {language: new_text})
    expected = [t for t in topics if t.topic != replaced.topic] + [
        TopicQuery(replaced.topic, language, new_text)
    ]
    removed = edited.without_topic(topics[0].topic)
    fresh_removed = compile_topics([t for t in expected if t.topic != topics[0].topic])
    fresh = compile_topics(expected)
    for title, summary in entries:
        assert edited.match(title, summary, language) == fresh.match(title, summary, language)
        assert removed.match(title, summary, language) == fresh_removed.match(
            title, summary, language
        )


@SETTINGS
@given(languages.flatmap(lambda language: st.tuples(st.just(language), queries(language))))
def test_formatting_round_trips(case):
    language, text = case
    try:
        query = parse_query(text, language)
    except QueryError:
        return
    assert parse_query(format_query(query), language) == query


QUERY_ALPHABET = st.sampled_from(
    list('()"*- \t«»“”„‘’‹›ʼ\u00ad\u200b')
    + ["AND", "OR", "NOT", "a", "é", "й", "ё", "œ", "\u0301", "1"]
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(QUERY_ALPHABET, max_size=300).map("".join)))
def test_parser_only_ever_raises_query_error(text):
    # How fast, on the worst inputs found, is printed by benchmarks/query_parsing.py.
    try:
        query = parse_query(text, "en")
    except QueryError as error:
        assert 0 <= error.position <= max(len(text), 1000)
    else:
        assert compile_topics([TopicQuery("t", "en", text)]).queries("t") == {"en": text}
        assert parse_query(format_query(query), "en") == query
