"""French keeps a topic (sujet) and a story (événement) apart, and one word for usage lines."""

from __future__ import annotations

from bot.i18n import catalog

STORY_KEYS = ("stories.header", "stories.story_line", "stories.recent", "stories.unknown",
              "stories.button", "stories.not_an_alert", "digest.stories.one",
              "digest.stories.many", "coverage.grow", "coverage.each")


def test_french_calls_a_story_an_evenement_never_a_sujet():
    strings = catalog("fr")
    for key in STORY_KEYS:
        assert "sujet" not in strings[key].lower(), key
        assert "événement" in strings[key].lower(), key


def test_french_usage_lines_all_start_the_same_way():
    usages = {key: text for key, text in catalog("fr").items()
              if key.endswith(".usage") and text.startswith(("Usage", "Utilisation"))}
    assert usages
    assert all(text.startswith("Usage\u00a0:") for text in usages.values()), usages
