"""Alerts render as valid Telegram HTML within 4096 characters, whatever the feed sends,
and read at a glance: topics, outlet and time, titles, summary, words found in bold, a link."""

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.render import AlertView, highlight, mute_buttons, render_alert, view_from
from bot.message_text import strip_html
from bot.shown_time import format_time
from tests.fakes.bot_api import parse_telegram_html, telegram_length

NOON = datetime(2026, 11, 29, 12, 5, tzinfo=UTC)


def _view(**kw) -> AlertView:
    base = dict(topic_titles=("Western troops in Ukraine",), outlet="Le Monde · International",
                source_language="fr", target_language="en",
                title="France may send troops to Ukraine",
                original_title="La France pourrait envoyer des troupes en Ukraine",
                summary="Paris weighs options.", link="https://www.lemonde.fr/a?b=1&c=2",
                when=format_time(NOON, "Europe/Paris", "en"), words=("troupes", "Ukraine"),
                translated=True)
    base.update(kw)
    return view_from(**base)


def _plain(markup: str) -> str:
    plain = parse_telegram_html(markup)  # raises like Telegram on invalid HTML
    assert telegram_length(plain) <= 4096
    return plain


def test_alert_shows_topic_outlet_time_marker_titles_summary_words_and_labelled_link():
    markup = render_alert(_view())
    plain = _plain(markup)
    for piece in ("Western troops in Ukraine",
                  "Le Monde · International · Nov 29, 2026, 13:05 CET · fr → en",
                  "France may send troops to Ukraine",
                  "Original: La France pourrait envoyer des troupes en Ukraine",
                  "Paris weighs options.", "Found: troupes, Ukraine",
                  "Read on Le Monde · International"):
        assert piece in plain
    assert '<a href="https://www.lemonde.fr/a?b=1&amp;c=2">Read on Le Monde' in markup
    assert "https://" not in plain  # the link is a label, not a raw URL


def test_marker_and_original_only_when_translated():
    plain = _plain(render_alert(_view(source_language="en", translated=False,
                                      original_title="France may send troops")))
    assert "→" not in plain and "Original" not in plain
    untranslated = _plain(render_alert(_view(translated=False, translation_failed=True)))
    assert "fr → en" not in untranslated and "Translation unavailable" in untranslated


def test_several_topics_are_named_in_one_alert():
    plain = _plain(render_alert(_view(topic_titles=("Western troops in Ukraine", "Gas"))))
    assert plain.splitlines()[0] == "Western troops in Ukraine · Gas"


def test_found_words_are_bold_where_they_appear_in_title_and_summary():
    markup = render_alert(_view(title="Ukraine: troops", summary="In Ukraine, UKRAINE again.",
                                words=("Ukraine",), translated=False, original_title=""))
    assert "<b>Ukraine</b>: troops" in markup
    assert "In <b>Ukraine</b>, <b>UKRAINE</b> again." in markup
    assert "<b>Ukrainebis" not in render_alert(_view(title="Ukrainebis", words=("Ukraine",)))


def test_bold_never_splits_an_entity_or_a_tag():
    pattern = re.compile(r"(?:amp|lt|gt|quot|b)", re.IGNORECASE)
    markup = highlight('a & b <b> "q" amp lt', pattern)
    assert markup.count("&amp;") == 1 and "&lt;<b>" in markup
    _plain(markup)
    for word in ("amp", "lt", "quot", "gt", "b", "a"):
        text = '&amp; <lt> "x" & a&b'
        _plain(render_alert(_view(title=text, summary=text, original_title=text,
                                  words=(word, "&"))))


def test_french_chat_gets_french_typography_and_words():
    plain = _plain(render_alert(_view(target_language="fr", source_language="en",
                                      when=format_time(NOON, "Europe/Paris", "fr"))))
    assert "Original\u00a0:" in plain and "Trouvé\u00a0:" in plain
    assert "29 nov. 2026, 13:05 CET" in plain and "Lire sur Le Monde" in plain


def test_russian_chat_gets_russian_words():
    plain = _plain(render_alert(_view(target_language="ru", translation_failed=True,
                                      when=format_time(NOON, "Europe/Moscow", "ru"))))
    assert "Оригинал:" in plain and "Найдено:" in plain and "Перевод недоступен" in plain
    assert "29 нояб. 2026 г., 15:05 MSK" in plain and "Читать на Le Monde" in plain


def test_time_is_in_the_chat_zone_and_says_when_only_seen():
    assert format_time(NOON, "America/New_York", "en") == "Nov 29, 2026, 07:05 EST"
    assert format_time(NOON, "Nowhere/Atlantis", "en") == "Nov 29, 2026, 12:05 UTC"
    assert format_time(NOON, None, "fr", seen=True) == "vu le 29 nov. 2026, 12:05 UTC"
    assert format_time(NOON, "UTC", "en", seen=True).startswith("seen ")


def test_mute_buttons_carry_the_topic_id_in_the_chat_language():
    [(label, data)] = mute_buttons(((42, "Troupes en Ukraine"),), "fr")
    assert data == "mute:42" and "Couper Troupes" in label
    assert len(mute_buttons([(i, "t") for i in range(9)], "en")) <= 4


def test_hostile_feed_text_is_escaped():
    evil = '<script>alert("x")</script> & </b><b> &amp; &#0; <a href="javascript:x">'
    view = _view(title=evil, original_title=evil, summary=evil, outlet=evil,
                 topic_titles=(evil,), link='javascript:alert(1)"><b>', words=(evil, "script"))
    markup = render_alert(view)
    plain = _plain(markup)
    assert "<script>" in plain  # shown as text, not markup
    assert "<script" not in markup
    assert 'href="javascript' not in markup


def test_ten_thousand_character_summary_is_cut_to_a_short_summary():
    plain = _plain(render_alert(_view(summary="word " * 2000)))
    assert len(plain) < 1200 and plain.count("word") < 200 and "…" in plain


def test_huge_text_everywhere_still_fits_cutting_summary_first():
    big = "x" * 10_000
    raw = AlertView(topic_titles=("T",), outlet="O", source_language="fr", target_language="en",
                    title="t" * 3000, original_title="o" * 500, summary="s" * 10_000,
                    link="https://e.com/" + "p" * 5000, words=("a",), translated=True)
    plain = _plain(render_alert(raw))
    assert telegram_length(plain) == 4096
    assert "t" * 3000 in plain and "o" * 500 in plain  # titles kept, summary cut
    everything = AlertView(topic_titles=(big,) * 5, outlet=big, source_language="fr",
                           target_language="en", title=big, original_title=big, summary=big,
                           link=big, when=big, words=tuple("&" * 50 for _ in range(200)),
                           translated=True, coverage=(big,) * 3)
    _plain(render_alert(everything))


def test_entities_and_astral_characters_are_counted_like_telegram():
    view = AlertView(topic_titles=("T",), outlet="O", source_language="fr", target_language="en",
                     title="&" * 5000, original_title="😀" * 3000, summary="<" * 5000,
                     link="https://e.com", translated=True)
    markup = render_alert(view)
    assert len(markup) > 4096  # the escaped form is longer than what Telegram counts
    assert telegram_length(_plain(markup)) <= 4096


def test_coverage_lines_come_after_the_link_and_are_cut_before_the_titles():
    plain = _plain(render_alert(_view(coverage=("Also covered by:", "BBC · en · 13:10"))))
    assert plain.index("Read on") < plain.index("Also covered by:")
    many = _plain(render_alert(_view(title="T" * 3000, coverage=("c" * 500,) * 10)))
    assert "T" * 3000 in many


def test_console_text_is_the_plain_text():
    markup = render_alert(_view(title="A & B <c> troupes"))
    assert strip_html(markup) == parse_telegram_html(markup)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=6000), st.text(max_size=300), st.lists(st.text(max_size=40), max_size=8))
def test_any_feed_text_renders_valid_html_within_limit(text, title, words):
    view = _view(title=title, original_title=text[:500], summary=text, outlet=title,
                 link=text[:300], words=words, topic_titles=(title, text[:50]))
    _plain(render_alert(view))
