"""Open stories: an entry joins the most similar recent story, or none."""

import pytest

from bot.stories.cluster import CORE, OpenStories
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


def test_large_story_keeps_a_bounded_index_of_its_core():
    stories = OpenStories()
    stories.add(1, STRIKE, at=0.0)
    for n in range(100):
        stories.join(1, sig(f"Unrelated item {n} about topic{n}"), at=float(n))
    assert len(stories._stories[1].core) == CORE
    assert all(f"t:topic{n}@en" in stories._index for n in range(CORE - 1))
    assert not any(f"t:topic{n}@en" in stories._index for n in range(CORE - 1, 100))


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


# A chain: A and B share the flood, B and C share the visit, A and C nothing.
FLOOD = sig("Flood waters swamp Dhaka as monsoon rains persist")
FLOOD_AND_VISIT = sig("Dhaka flood waters recede; Sheikh Hasina visits Chittagong port")
VISIT = sig("Sheikh Hasina opens new Chittagong port terminal")


def test_an_entry_resembling_one_member_only_does_not_join_by_that_member_alone():
    from bot.stories.similarity import similarity

    assert similarity(FLOOD, VISIT) == 0.0
    assert similarity(FLOOD_AND_VISIT, VISIT) >= 0.22 and similarity(FLOOD, FLOOD_AND_VISIT) >= 0.22
    for linkage, joins in (("single", True), ("supported", False)):
        stories = OpenStories(linkage=linkage)
        stories.add(1, FLOOD, at=0.0)
        assert stories.best_story(FLOOD_AND_VISIT, now=HOUR, window=6 * HOUR) == 1
        stories.join(1, FLOOD_AND_VISIT, at=HOUR)
        assert (stories.best_story(VISIT, now=2 * HOUR, window=6 * HOUR) == 1) is joins, linkage


def test_an_entry_resembling_two_members_joins_a_supported_story():
    stories = OpenStories()
    stories.add(1, STRIKE, at=0.0)
    stories.join(1, STRIKE_LATER, at=HOUR)
    again = sig("Kyiv says Storm Shadow missiles struck Saky airbase in Crimea")
    assert stories.best_story(again, now=2 * HOUR, window=6 * HOUR) == 1


def test_unknown_linkage_is_refused():
    with pytest.raises(ValueError):
        OpenStories(linkage="complete")


def boiler(title: str, feed: str = "blog"):
    return story_signature(title, "Published by Jane Doe on Framablog, Framasoft's journal.",
                           "en", "", source=feed)


def test_a_feeds_own_boilerplate_does_not_group_its_entries():
    posts = [boiler(t) for t in ("Garden tools swap", "Regex tutorial part two",
                                 "Mountain trip diary", "Privacy and intimacy", "Open discussions",
                                 "Solar oven results")]
    # Before the feed's habits are known, the shared sentence alone links two posts.
    fresh = OpenStories()
    fresh.add(1, posts[0], at=0.0)
    assert fresh.best_story(posts[1], now=HOUR, window=6 * HOUR) == 1
    stories = OpenStories()
    for n, post in enumerate(posts[:-1]):
        stories.add(n, post, at=0.0)  # each its own story: the feed showed them
    assert stories.best_story(posts[-1], now=HOUR, window=6 * HOUR) is None
    assert {"n:frmbl", "w:framasoft"} <= stories.habits.boilerplate(posts[-1])
    # Another feed quoting the same sentence still meets them: the habit is the blog's.
    assert stories.habits.boilerplate(boiler("Solar oven results", feed="other")) == frozenset()


def test_habits_forget_what_the_stream_no_longer_shows():
    from bot.stories.cluster import Habits

    habits = Habits(recent=10, share=0.3, at_least=3)
    same = boiler("Same words").features
    for _ in range(2):
        habits.learn(same)
    assert habits.repeated(same) == frozenset()  # not yet at_least
    for _ in range(8):
        habits.learn(same)
    assert habits.repeated(same) == same
    for n in range(10):
        habits.learn(story_signature(f"Item {n} topic{n}", "", "en", "").features)
    assert habits.repeated(same) == frozenset()
    assert len(habits._counts) <= 4 * 10


def test_what_every_feed_keeps_repeating_links_no_two_entries():
    from bot.stories.cluster import TOPICAL_MIN

    stories = OpenStories()
    # Many feeds, many unrelated items, all naming the same man.
    for n in range(TOPICAL_MIN + 1):
        stories.add(n, sig(f"Donald Trump and item{n} topic{n}"), at=0.0)
    latest = sig("Donald Trump visits the zoo")
    assert stories.best_story(latest, now=HOUR, window=6 * HOUR) is None
    before = OpenStories(linkage="single", feed_habits=False)
    for n in range(TOPICAL_MIN + 1):
        before.add(n, sig(f"Donald Trump and item{n} topic{n}"), at=0.0)
    assert before.best_story(latest, now=HOUR, window=6 * HOUR) is not None


def test_equal_scores_go_to_the_story_joined_last_whatever_the_ids():
    for first, second in ((1, 2), (2, 1), ("b", "a")):
        stories = OpenStories()
        stories.add(first, STRIKE, at=0.0)
        stories.add(second, STRIKE, at=10.0)
        assert stories.best_story(STRIKE_LATER, now=HOUR, window=6 * HOUR) == second
        stories.join(first, STRIKE, at=20.0)
        assert stories.best_story(STRIKE_LATER, now=HOUR, window=6 * HOUR) == first
