"""A Telegram channel's public preview page read as a feed (pure: bytes in, entries out)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.feeds.telegram_preview import (
    PreviewUnavailable,
    channel_name,
    channel_url,
    is_channel_url,
    parse_channel_preview,
    preview_address,
)

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def _page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_each_text_post_is_an_entry_with_its_link_and_date():
    entries = parse_channel_preview(_page("channel_preview.html"), "severnews", "ru", NOW)
    links = [e.link for e in entries]
    assert links == ["https://t.me/severnews/4101", "https://t.me/severnews/4103",
                     "https://t.me/severnews/4105"]
    first = entries[0]
    assert first.title == "Орешник размещён в Белоруссии — Минобороны"
    assert first.summary.startswith("Ракетный комплекс «Орешник» заступил")
    assert first.summary.endswith("#орешник")
    assert first.published == datetime(2026, 12, 7, 21, 14, 5, tzinfo=UTC)
    assert first.key == first.link and first.language == "ru"


def test_a_forwarded_post_keeps_its_text_and_names_its_source():
    entries = parse_channel_preview(_page("channel_preview.html"), "severnews", "ru", NOW)
    forwarded = entries[1]
    assert forwarded.title == "Удар Storm Shadow по Курской области: сбиты четыре ракеты"
    assert "перехватили" in forwarded.summary and "(↪ ТАСС)" in forwarded.summary
    assert forwarded.published == datetime(2026, 12, 7, 20, 2, 41, tzinfo=UTC)  # +03:00


def test_service_messages_and_captionless_media_are_not_entries():
    entries = parse_channel_preview(_page("channel_preview.html"), "severnews", "ru", NOW)
    links = {e.link for e in entries}
    assert "https://t.me/severnews/4102" not in links  # a photo alone
    assert "https://t.me/severnews/4104" not in links  # "Channel photo updated"


def test_entities_are_decoded_once_and_spaces_folded():
    entries = parse_channel_preview(_page("channel_preview.html"), "severnews", "ru", NOW)
    assert entries[2].title == "Путин и Лукашенко обсудили поставки вооружений & совместные учения"


def test_an_implausible_date_is_read_as_first_seen():
    entries = parse_channel_preview(_page("channel_preview.html"), "severnews", "ru", NOW)
    assert entries[2].published == NOW  # the page said 1970


def test_a_long_first_line_is_cut_into_a_title_and_kept_whole_in_the_summary():
    words = " ".join(f"слово{i}" for i in range(80))
    page = (f'<section class="tgme_channel_history"><div class="tgme_widget_message" '
            f'data-post="c1234/7"><div class="tgme_widget_message_text">{words}</div>'
            f'</div></section>').encode()
    [entry] = parse_channel_preview(page, "c1234", "ru", NOW)
    assert entry.title.endswith("…") and len(entry.title) <= 201
    assert entry.summary.startswith("слово0 ") and entry.summary.endswith("слово79")


def test_a_channel_without_a_public_preview_is_refused_with_that_reason():
    with pytest.raises(PreviewUnavailable, match="@closednews has no public web preview"):
        parse_channel_preview(_page("preview_disabled.html"), "closednews", "ru", NOW)


def test_an_empty_history_is_a_channel_with_no_posts_yet():
    page = b'<main><section class="tgme_channel_history"></section></main>'
    assert parse_channel_preview(page, "emptych", "en", NOW) == []


@pytest.mark.parametrize("text, name", [
    ("@mash", "mash"), ("mash_news", "mash_news"), ("https://t.me/s/mash", "mash"),
    ("https://t.me/mash", "mash"), ("t.me/s/bazabazon/", "bazabazon"),
    ("https://example.org/feed", None), ("@ab", None), ("@1abc", None), ("", None),
])
def test_channel_names_are_read_from_handles_and_addresses(text, name):
    assert channel_name(text) == name


def test_only_preview_addresses_are_channel_feeds_and_they_are_fetched_from_the_mirror():
    assert is_channel_url(channel_url("mash"))
    assert not is_channel_url("https://t.me/mash")  # a channel page, not its preview
    assert not is_channel_url("https://www.lemonde.fr/rss/une.xml")
    assert preview_address("https://t.me/s/mash", "http://127.0.0.1:9/s/") == \
        "http://127.0.0.1:9/s/mash"
    assert preview_address("https://www.lemonde.fr/rss/une.xml", "http://127.0.0.1:9/s/") == \
        "https://www.lemonde.fr/rss/une.xml"
