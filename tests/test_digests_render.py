"""Digest and surge texts, and the surge decision: pure functions, plain inputs."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import SurgesConfig
from bot.digests.render import DigestEntry, group_digest, render_digest, render_surge
from bot.digests.surges import TopicCounts, detect_surge
from bot.message_text import telegram_length


def entry(n, story, outlet="BBC", language="en", topic="troops", at=0.0):
    return DigestEntry(topic=topic, topic_title=topic.title(), story=story, entry_id=n,
                       title=f"Title {n} <&>", language=language, outlet=outlet, matched_at=at)


def test_stories_are_grouped_per_topic_most_covered_first():
    topics = group_digest([
        entry(1, "a"), entry(2, "b", "Le Monde", "fr"), entry(3, "b", "TASS", "ru"),
        entry(4, "c", topic="drones"), entry(5, "b", "RFI", "fr"),
    ])
    assert [t.topic for t in topics] == ["troops", "drones"]
    first = topics[0].stories[0]
    assert (first.story, first.entries, first.outlets, first.languages) == (
        "b", 3, ("Le Monde", "TASS", "RFI"), ("fr", "ru"))
    assert first.title == "Title 2 <&>"  # the story's first entry


def test_digest_lists_titles_in_the_chat_language_escaped():
    topics = group_digest([entry(1, "a", language="fr")])
    [message] = render_digest("fr", "2026-03-29 08:00", topics, {"a": "Titre <traduit>"})
    assert "Titre &lt;traduit&gt;" in message
    assert "1 article · BBC · fr" in message
    assert message.startswith("<b>Résumé jusqu'au 2026-03-29 08:00\u00a0: 1 événement</b>")


def test_nothing_to_list_is_no_message():
    assert render_digest("en", "x", []) == []


def test_messages_split_only_past_4096_units_with_whole_stories():
    entries = [entry(n, str(n), topic=f"topic{n // 10}") for n in range(40)]
    topics = group_digest(entries)
    few = render_digest("en", "x", group_digest(entries[:5]))
    assert len(few) == 1
    long_titles = {str(n): "ж" * 250 + "😀" * 20 for n in range(40)}
    parts = render_digest("en", "x", topics, long_titles)
    assert len(parts) > 1
    for part in parts:
        plain = part.replace("<b>", "").replace("</b>", "").replace("<i>", "").replace("</i>", "")
        assert telegram_length(plain) <= 4096
    assert sum(part.count("• ") for part in parts) == 40


def test_surge_message_has_the_numbers_in_the_chat_language():
    assert render_surge("en", "Troops", 6, 7200.0, 3, 4.5) == (
        "📈 Troops: 6 entries in 2 hours across 3 languages, 4.5× the 7-day rate")
    assert "6 articles en 2\u00a0heures dans 3 langues, 12× le rythme" in render_surge(
        "fr", "Troupes", 6, 7200.0, 3, 12.0)
    assert "за 7 дней до этого — ни одного" in render_surge("ru", "Войска", 6, 7200.0, 1, None)


RULE = SurgesConfig(window=7200.0, min_entries=5, factor=4.0)


def test_without_history_min_entries_alone_decides():
    assert detect_surge(TopicCounts("t", 4, 1, 0), RULE) is None
    surge = detect_surge(TopicCounts("t", 5, 2, 0), RULE)
    assert (surge.entries, surge.languages, surge.rate, surge.ratio) == (5, 2, 0.0, None)


def test_with_history_the_count_must_reach_factor_times_the_7_day_rate():
    # 168 matches over 7 days = 1 an hour = 2 per 2-hour window: 4x that is 8
    assert detect_surge(TopicCounts("t", 7, 1, 168), RULE) is None
    surge = detect_surge(TopicCounts("t", 8, 3, 168), RULE)
    assert surge.ratio == 4.0 and surge.rate == 2.0


def test_each_story_links_its_first_entry_and_names_its_story_id():
    topics = group_digest([
        DigestEntry("troops", "Troops", "story:7", 1, "First <one>", "en", "BBC", 10.0,
                    link="https://bbc.example/a?x=1&y=2", published_at=10.0, story_id=7),
        DigestEntry("troops", "Troops", "story:7", 2, "Later", "fr", "RFI", 20.0,
                    link="https://rfi.example/b", published_at=20.0, story_id=7),
    ])
    [message] = render_digest("en", "x", topics)
    assert ('• <a href="https://bbc.example/a?x=1&amp;y=2">First &lt;one&gt;</a> · /story 7'
            in message)


def test_among_equally_covered_stories_the_newest_comes_first():
    day = 86400.0
    old = DigestEntry("troops", "Troops", "old", 1, "Two days old", "en", "BBC", 3 * day,
                      published_at=1 * day)
    new = DigestEntry("troops", "Troops", "new", 2, "Just now", "en", "BBC", 3 * day - 60,
                      published_at=3 * day - 60)
    [topic] = group_digest([old, new])
    assert [story.title for story in topic.stories] == ["Just now", "Two days old"]


def test_past_ten_stories_a_topic_ends_with_how_many_more():
    topics = group_digest([entry(n, str(n)) for n in range(13)])
    for language, more in (("en", "+3 more"), ("fr", "+3 autres"), ("ru", "и ещё 3")):
        [message] = render_digest(language, "x", topics)
        assert message.count("• ") == 10
        assert message.endswith(f"<i>{more}</i>")


def _parsed(part: str) -> str:
    from bot.markup import html_to_text

    return html_to_text(part, fold=False)


@settings(max_examples=60, deadline=None)
@given(outlets=st.integers(1, 900), name_length=st.integers(1, 40), stories=st.integers(1, 9),
       title_length=st.integers(1, 400))
def test_every_digest_message_fits_however_long_one_story_is(outlets, name_length, stories,
                                                             title_length):
    # One story covered by up to 900 outlets of long names: its line alone can pass
    # 4096 units. Its outlets are cut; every other story is still listed, whole.
    crowded = [entry(n, "crowded", outlet=f"{n:04d}" + "o" * name_length)
               for n in range(outlets)]
    others = [entry(10_000 + n, f"s{n}") for n in range(stories)]
    titles = {f"s{n}": "w" * title_length for n in range(stories)}
    parts = render_digest("en", "x", group_digest(crowded + others), titles)
    assert all(telegram_length(_parsed(part)) <= 4096 for part in parts)
    assert sum(part.count("• ") for part in parts) == stories + 1
    listed = "".join(_parsed(part) for part in parts)
    assert listed.count(f"• {'w' * min(title_length, 299)}") == stories


def test_a_story_line_past_4096_units_is_shortened_not_sent_whole():
    crowded = [entry(n, "crowded", outlet=f"Outlet number {n:04d}") for n in range(400)]
    header, part = render_digest("en", "x", group_digest(crowded))
    text = _parsed(part)
    assert "x" in _parsed(header)
    assert telegram_length(text) <= 4096 and text.endswith("…")
    assert "Outlet number 0000" in text and "Outlet number 0399" not in text
    assert part.startswith("• ") and "<i>" in part  # the story's line keeps its markup
