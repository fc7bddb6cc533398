"""Counts read as each language counts: 1 language, 2 languages; 1 язык, 2 языка, 5 языков."""

from __future__ import annotations

import pytest

from bot.digests.render import DigestStory, DigestTopic, render_digest, render_surge
from bot.i18n import catalog, plural, plural_form
from bot.model import LANGUAGES
from bot.stories.render import CoverageItem, count_line


@pytest.mark.parametrize(("n", "form"), [
    (0, "many"), (1, "one"), (2, "few"), (4, "few"), (5, "many"), (11, "many"),
    (12, "many"), (14, "many"), (21, "one"), (22, "few"), (25, "many"), (101, "one"),
    (111, "many"), (112, "many"), (1004, "few"),
])
def test_russian_has_three_forms(n, form):
    assert plural_form("ru", n) == form


def test_french_takes_the_singular_for_zero_and_one_english_for_one_only():
    assert [plural_form("fr", n) for n in (0, 1, 2)] == ["one", "one", "many"]
    assert [plural_form("en", n) for n in (0, 1, 2)] == ["many", "one", "many"]


def test_a_counted_word_in_each_language():
    assert [plural("ru", "stories.languages", n) for n in (1, 2, 5)] == \
        ["1 язык", "2 языка", "5 языков"]
    assert [plural("en", "stories.languages", n) for n in (1, 2)] == ["1 language", "2 languages"]
    assert [plural("fr", "stories.languages", n) for n in (1, 2)] == ["1 langue", "2 langues"]
    assert plural("de", "stories.outlets", 1) == "1 outlet"  # an unknown language: English


def test_every_counted_table_has_the_three_forms_in_every_language():
    for lang in LANGUAGES:
        keys = catalog(lang)
        stems = {key.rsplit(".", 1)[0] for key in keys if key.endswith((".one", ".few", ".many"))}
        assert stems, lang
        for stem in stems:
            assert all(f"{stem}.{form}" in keys for form in ("one", "few", "many")), stem
            # "one" may leave its count implied ("last day", "le dernier jour");
            # French also uses it for 0, so the count must show wherever it can be more.
            assert all("{n}" in keys[f"{stem}.{form}"] for form in ("few", "many")), stem


def test_a_surge_across_one_language_reads_right():
    hours = 7200
    assert "7 entries in 2 hours across 1 language," in render_surge("en", "Strikes", 7, hours,
                                                                    1, 3.0)
    assert "1 entry in 2 hours across 1 language," in render_surge("en", "Strikes", 1, hours,
                                                                   1, None)
    assert "6 articles en 2\u00a0heures dans 1 langue," in render_surge("fr", "Frappes", 6,
                                                                      hours, 1, 3.0)
    assert "21 материал за 2 часа на 1 языке," in render_surge("ru", "Удары", 21, hours, 1, 3.0)
    assert "2 материала за 2 часа на 2 языках," in render_surge("ru", "Удары", 2, hours, 2, None)
    assert "5 материалов за 2 часа на 3 языках," in render_surge("ru", "Удары", 5, hours, 3, 2.5)


def test_digest_counts_read_right():
    story = DigestStory(story="s1", title="Frappe", title_language="fr", outlets=("lemonde",),
                        languages=("fr",), entries=1, first_at=0.0, first_entry=1)
    [ru] = render_digest("ru", "08:00", [DigestTopic("strikes", "Удары", (story,))])
    assert "1 сюжет</b>" in ru and "1 материал ·" in ru
    [en] = render_digest("en", "08:00", [DigestTopic("strikes", "Strikes", (story, story))])
    assert "2 stories</b>" in en and "1 entry ·" in en


def test_story_counts_read_right():
    one = [CoverageItem("TASS", "ru", 0.0)]
    assert count_line(one, "ru") == "1 издание · 1 язык"
    two = one + [CoverageItem("РИА", "ru", 1.0)]
    assert count_line(two, "ru") == "2 издания · 1 язык"
    assert count_line(two, "en") == "2 outlets · 1 language"
