"""Alerts render as valid Telegram HTML within 4096 characters, whatever the feed sends."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.render import AlertView, chrome, render_alert, strip_html, view_from
from tests.fakes.bot_api import parse_telegram_html, telegram_length


def _view(**kw) -> AlertView:
    base = dict(topic_title="Western troops in Ukraine", outlet="Le Monde · International",
                source_language="fr", target_language="en",
                title="France may send troops", original_title="La France pourrait envoyer des troupes",
                summary="Paris weighs options.", link="https://www.lemonde.fr/a?b=1&c=2",
                terms=("troupes", "ukraine"))
    base.update(kw)
    return view_from(**base)


def _plain(markup: str) -> str:
    plain = parse_telegram_html(markup)  # raises like Telegram on invalid HTML
    assert telegram_length(plain) <= 4096
    return plain


def test_alert_shows_topic_outlet_marker_titles_summary_link_and_terms():
    plain = _plain(render_alert(_view()))
    for piece in ("Western troops in Ukraine", "Le Monde · International", "fr → en",
                  "France may send troops", "Original: La France pourrait envoyer des troupes",
                  "Paris weighs options.", "https://www.lemonde.fr/a?b=1&c=2",
                  "Matched: troupes, ukraine"):
        assert piece in plain


def test_original_title_is_left_out_when_languages_match():
    plain = _plain(render_alert(_view(source_language="en", original_title="France may send troops")))
    assert "Original" not in plain


def test_chrome_follows_the_chat_language():
    plain = _plain(render_alert(_view(target_language="ru", translation_failed=True)))
    assert "Оригинал:" in plain and "Совпадения:" in plain and "Перевод недоступен" in plain
    assert chrome("xx") == chrome("en")


def test_hostile_feed_text_is_escaped():
    evil = '<script>alert("x")</script> & </b><b> &amp; &#0; <a href="javascript:x">'
    view = _view(title=evil, original_title=evil, summary=evil, outlet=evil,
                 topic_title=evil, link='javascript:alert(1)"><b>', terms=(evil,))
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
    raw = AlertView(topic_title="T", outlet="O", source_language="fr", target_language="en",
                    title="t" * 3000, original_title="o" * 500, summary="s" * 10_000,
                    link="https://e.com/" + "p" * 5000, terms=("a",))
    plain = _plain(render_alert(raw))
    assert telegram_length(plain) == 4096
    assert "t" * 3000 in plain and "o" * 500 in plain  # titles kept, summary cut
    everything = AlertView(topic_title=big, outlet=big, source_language="fr",
                           target_language="en", title=big, original_title=big, summary=big,
                           link=big, terms=tuple("&" * 50 for _ in range(200)))
    _plain(render_alert(everything))


def test_entities_and_astral_characters_are_counted_like_telegram():
    view = AlertView(topic_title="T", outlet="O", source_language="fr", target_language="en",
                     title="&" * 5000, original_title="😀" * 3000, summary="<" * 5000,
                     link="https://e.com", terms=())
    markup = render_alert(view)
    assert len(markup) > 4096  # the escaped form is longer than what Telegram counts
    assert telegram_length(_plain(markup)) <= 4096


def test_console_text_is_the_plain_text():
    markup = render_alert(_view(title="A & B <c>"))
    assert strip_html(markup) == parse_telegram_html(markup)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=6000), st.text(max_size=300), st.lists(st.text(max_size=40), max_size=8))
def test_any_feed_text_renders_valid_html_within_limit(text, title, terms):
    view = _view(title=title, original_title=text[:500], summary=text, outlet=title,
                 link=text[:300], terms=terms)
    _plain(render_alert(view))
