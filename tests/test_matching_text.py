"""Normalisation, word boundaries and stemming: the language rules of matching."""

import pytest

from bot.matching.text import FIELD_BREAK, normalise, stem_words, tokenize, tokenize_entry


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Européens", "europeens"),
        ("ÉTATS-UNIS", "etats-unis"),
        ("Ёлка", "елка"),  # ё is written е
        ("Йошкар-Ола", "йошкар-ола"),  # й is a letter of its own, kept
        ("Украи́на", "украина"),  # a Russian stress mark is dropped
        ("ﬁnance", "finance"),  # NFKC ligature
        ("Straße", "strasse"),  # case-folding, not just lower()
        ("œuvre", "oeuvre"),
        ("Ukrai\u00adne", "ukraine"),  # soft hyphen inside a word
        ("Київ", "київ"),  # Ukrainian ї is not a Latin accent
        (
            "Ukrai\u200dne Ukrai\u200cne Ukrai\u2060ne \ufeffUkraine",
            "ukraine ukraine ukraine ukraine",
        ),
        ("Æsir Øresund Łódź STRASSE straße", "aesir oresund lodz strasse strasse"),
        ("Сту\u0301дент Москва\u0300", "студент москва"),  # stress marks after NFC
    ],
)
def test_normalise_folds_latin_accents_and_yo_but_keeps_cyrillic_letters(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Ukraine's troops", ["ukraine", "s", "troops"]),
        ("l'Ukraine", ["l", "ukraine"]),
        ("l’Ukraine", ["l", "ukraine"]),  # typographic apostrophe
        ("l‘Ukraine", ["l", "ukraine"]),
        ("lʼUkraine", ["l", "ukraine"]),  # modifier letter apostrophe, a letter to Unicode
        ("Ukrai\u00adnian", ["ukrainian"]),  # soft hyphen: one word
        ("Kyiv\u200bUkraine", ["kyiv", "ukraine"]),  # zero-width space: two words
        ("d'Oreshnik", ["d", "oreshnik"]),
        ("SCALP-EG", ["scalp", "eg"]),
        ("Jean-Noël Barrot", ["jean", "noel", "barrot"]),
        ("Санкт-Петербург", ["санкт", "петербург"]),
        ("Paris—Kyiv – Moscou", ["paris", "kyiv", "moscou"]),  # em and en dashes
        ("F-16 en 2024", ["f", "16", "en", "2024"]),
        ("«\xa0Canard\xa0»", ["canard"]),
        # Plain text as it reads: markup and entities were dealt with by the feed parser.
        ("Trump &amp; Putin <b>meet</b>", ["trump", "amp", "putin", "b", "meet", "b"]),
        ("a < b > c", ["a", "b", "c"]),  # not a tag: the words stay
        ("snake_case", ["snake", "case"]),
        ("", []),
    ],
)
def test_hyphens_apostrophes_dashes_and_symbols_separate_words(text, words):
    assert tokenize(text, "en") == words


def test_stemming_brings_inflections_together_per_language():
    assert len(set(stem_words(tokenize("Украина Украину Украине", "ru"), "ru"))) == 1
    assert stem_words(["troupe", "troupes"], "fr") == stem_words(["troupe", "troupe"], "fr")
    assert stem_words(["ukraine"], "en") != stem_words(["ukrainebank"], "en")


def test_stems_of_accented_and_unaccented_spellings_agree():
    # Folding happens before stemming, so a query typed without accents matches.
    accented = stem_words(tokenize("Européens", "fr"), "fr")
    plain = stem_words(tokenize("europeens", "fr"), "fr")
    assert accented == plain


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unsupported language"):
        tokenize("hello", "de")


def test_entry_keeps_title_and_summary_apart_for_phrases():
    entry = tokenize_entry("Storm", "Shadow missiles", "en")
    assert entry.sequence[1] == FIELD_BREAK
    assert entry.sequence.index(FIELD_BREAK) == 1
    assert "shadow" in entry.words and entry.has_prefix("missi")
    assert not entry.has_prefix("missiles-")
