"""French strings of the catalog follow French typography."""

import re

from bot.i18n import catalog

# What a French string may write without French spacing: commands and their arguments,
# query lines ("fr: QUERY"), clock times, placeholders, emoji-led keys of buttons.
_LITERAL = re.compile(r"/\w[^\s]*|\b(?:en|fr|ru|LANG|LANGUE): |\d\d?:\d\d|HH:MM|\{[^}]*\}|"
                      r"\"[^\"]*\"")
_BAD = [
    (re.compile(r" [:;?!»]"), "an ordinary space before : ; ? ! or »"),
    (re.compile(r"[^\s\u00a0\u202f][:;?!»]"), "no non-breaking space before : ; ? ! or »"),
    (re.compile(r"«[^\u00a0\u202f]"), "no non-breaking space after «"),
]


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
