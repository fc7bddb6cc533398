"""The one string catalog: every English string exists in French and Russian with the same
placeholders, and French strings follow French typography."""

import re
import string

import pytest

from bot.telegram.i18n import catalog

# What a French string may write without French spacing: commands and their arguments,
# query lines ("fr: QUERY"), clock times, placeholders, emoji-led keys of buttons.
_LITERAL = re.compile(r"/\w[^\s]*|\b(?:en|fr|ru|LANG|LANGUE): |\d\d?:\d\d|HH:MM|\{[^}]*\}|"
                      r"\"[^\"]*\"")
_BAD = [
    (re.compile(r" [:;?!»]"), "an ordinary space before : ; ? ! or »"),
    (re.compile(r"[^\s\u00a0\u202f][:;?!»]"), "no non-breaking space before : ; ? ! or »"),
    (re.compile(r"«[^\u00a0\u202f]"), "no non-breaking space after «"),
]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", ["fr", "ru"])
def test_every_string_exists_with_the_same_placeholders(language):
    english, other = catalog("en"), catalog(language)
    assert set(english) - set(other) == set()
    for key, text in english.items():
        assert _fields(other[key]) == _fields(text), key


def test_french_strings_follow_french_typography():
    problems = []
    for key, text in catalog("fr").items():
        if key.startswith("health."):  # HTML markup around the names
            text = re.sub(r"<[^>]+>", "", text)
        prose = _LITERAL.sub("", text)
        for pattern, problem in _BAD:
            if pattern.search(prose):
                problems.append(f"{key}: {problem}: {text!r}")
    assert problems == []
