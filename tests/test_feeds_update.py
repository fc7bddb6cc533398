"""What one poll changes, decided as a value before anything is written (pure)."""

from datetime import UTC, datetime

from bot.feeds.update import plan_update
from bot.model import Entry, Feed, FeedState

NOW = datetime(2024, 11, 25, 12, tzinfo=UTC).timestamp()
DAY = 86400.0
FEED = Feed(id=7, url="https://lemonde.example/rss", language="fr", name="Le Monde")
STATE = FeedState(NOW, NOW + 300, '"e"', None, True)


def entry(key: str, link: str | None = None, age: float = 0.0) -> Entry:
    return Entry(key=key, link=link or f"https://lemonde.example/{key}", title=key, summary="",
                 published=datetime.fromtimestamp(NOW - age, UTC), language="fr")


def test_new_entries_wait_for_matching_and_known_ones_are_kept_alive():
    update = plan_update(FEED, [entry("a"), entry("b"), entry("c")], {"a"}, NOW,
                         baseline=False, retention=30 * DAY, state=STATE)
    assert [e.key for e in update.new] == ["b", "c"]
    assert update.pending == {"b", "c"}
    assert update.seen == ("a",)
    assert (update.feed, update.now, update.state) == (FEED, NOW, STATE)


def test_the_baseline_poll_records_entries_without_anything_waiting():
    update = plan_update(FEED, [entry("a"), entry("b")], set(), NOW, baseline=True,
                         retention=30 * DAY)
    assert [e.key for e in update.new] == ["a", "b"] and update.pending == frozenset()


def test_an_entry_published_before_the_retention_is_stored_but_never_waits():
    update = plan_update(FEED, [entry("old", age=40 * DAY), entry("fresh")], set(), NOW,
                         baseline=False, retention=30 * DAY)
    assert {e.key for e in update.new} == {"old", "fresh"} and update.pending == {"fresh"}


def test_one_link_twice_in_a_poll_waits_once_and_a_repeated_key_is_one_entry():
    shared = "https://reuters.example/x"
    update = plan_update(FEED, [entry("a", shared), entry("b", shared), entry("a", shared)],
                         set(), NOW, baseline=False, retention=30 * DAY)
    assert [e.key for e in update.new] == ["a", "b"] and update.pending == {"a"}


def test_an_entry_known_by_its_link_under_a_new_guid_is_not_new():
    link = "https://lemonde.example/wildfire"
    update = plan_update(FEED, [entry("guid-2", link)], {"guid-1"}, NOW, baseline=False,
                         retention=30 * DAY, seen_as={link})
    assert update.new == () and update.pending == frozenset()
    assert update.seen == ("guid-1",)  # the stored entry stays alive under its first key
