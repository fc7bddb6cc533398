"""Open stories: an entry joins the most similar recent story, or none."""

import pytest

from bot.stories.cluster import OpenStories
from bot.stories.similarity import story_signature

HOUR = 3600.0


def sig(title: str, summary: str = "", language: str = "en", link: str = ""):
    return story_signature(title, summary, language, link)


STRIKE = sig("Ukraine strikes Russian airbase in Crimea with Storm Shadow missiles",
             "Kyiv used British-supplied Storm Shadow missiles against the Saky airbase.")
STRIKE_LATER = sig("Storm Shadow missiles hit Saky airbase in Crimea, Kyiv says",
                   "Ukrainian forces said British Storm Shadow missiles struck the base.")
ELECTION = sig("Moldova votes in tense parliamentary election",
               "Voters in Chisinau chose between pro-European and pro-Russian parties.")


def test_similar_entry_joins_the_open_story():
    stories = OpenStories()
    stories.add(1, STRIKE, at=0.0)
    stories.add(2, ELECTION, at=0.0)
    assert stories.best_story(STRIKE_LATER, now=HOUR, window=6 * HOUR) == 1


def test_unrelated_entry_finds_no_story():
    stories = OpenStories()
    stories.add(1, STRIKE, at=0.0)
    assert stories.best_story(ELECTION, now=HOUR, window=6 * HOUR) is None


def test_story_older_than_the_window_is_not_joined_and_expires():
    stories = OpenStories()
    stories.add(1, STRIKE, at=0.0)
    assert stories.best_story(STRIKE_LATER, now=7 * HOUR, window=6 * HOUR) is None
    assert stories.expire(now=7 * HOUR, window=6 * HOUR) == [1]
    assert len(stories) == 0 and stories._index == {}


def test_joining_keeps_a_story_open_longer():
    stories = OpenStories()
    stories.add(1, STRIKE, at=0.0)
    stories.join(1, STRIKE_LATER, at=5 * HOUR)
    assert stories.expire(now=7 * HOUR, window=6 * HOUR) == []
    assert stories.best_story(STRIKE, now=7 * HOUR, window=6 * HOUR) == 1


def test_adding_an_open_story_twice_is_refused():
    stories = OpenStories()
    stories.add(1, STRIKE, at=0.0)
    with pytest.raises(ValueError):
        stories.add(1, ELECTION, at=0.0)


def test_large_story_keeps_a_bounded_index():
    stories = OpenStories()
    stories.add(1, STRIKE, at=0.0)
    for n in range(100):
        stories.join(1, sig(f"Unrelated item {n} about topic{n}"), at=float(n))
    assert len(stories._stories[1].members) <= 12
    assert not any(f"t:topic{n}@en" in stories._index for n in range(50))
    assert all(f"t:topic{n}@en" in stories._index for n in range(90, 100))


def test_expiring_closes_exactly_the_stories_past_the_window_in_any_join_order():
    stories = OpenStories()
    stories.add("a", STRIKE, at=10.0)
    stories.add("b", ELECTION, at=0.0)
    stories.join("b", STRIKE_LATER, at=20.0)
    stories.join("a", STRIKE_LATER, at=5.0)  # an older entry restored late: "a" stays at 10
    assert stories.expire(now=15.0, window=10.0) == []
    assert stories.expire(now=25.0, window=10.0) == ["a"]
    assert stories.expire(now=25.0, window=10.0) == []
    assert "b" in stories and len(stories) == 1
    assert stories.expire(now=31.0, window=10.0) == ["b"]
    assert stories._index == {}
