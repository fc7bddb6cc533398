"""The reader's screens in each chat language, pinned by golden files (reviewed, then kept):
a surge alert, a digest, /recent, /feeds, the /trend caption and the admins' health
reports, with dates, durations and numbers as each language writes them."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.health_render import HealthNotice, render_health_report
from bot.digests.render import DigestEntry, SurgeStory, group_digest, render_digest, render_surge
from bot.digests.trend import count_slots, trend_caption, trend_span
from bot.model import Feed, FeedHealth
from bot.shown_time import format_time
from bot.store.topics import RecentMatch
from bot.telegram.admin_feeds import feed_block
from bot.telegram.commands import recent_listing
from tests.fakes.bot_api import parse_telegram_html, telegram_length

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
ZONES = {"en": "America/New_York", "fr": "Europe/Paris", "ru": "Europe/Moscow"}
NOW = datetime(2026, 11, 29, 12, 5, tzinfo=UTC).timestamp()
HOUR, DAY = 3600.0, 86400.0
TITLES = {  # one story's title as each chat reads it
    "en": "Oreshnik missile: Moscow says serial production has begun",
    "fr": "Missile Orechnik : Moscou annonce le début de la production en série",
    "ru": "«Орешник»: в Москве заявили о начале серийного производства",
}
TOPIC = {"en": "Oreshnik missile", "fr": "Missile Orechnik", "ru": "Ракета «Орешник»"}


def _surge(lang: str) -> str:
    stories = [SurgeStory(TITLES[lang], "https://tass.ru/politika/1?utm_source=rss&x=<1>", 42, 4),
               SurgeStory("Putin & the <missile>", "https://rt.com/news/2/", 43, 2),
               SurgeStory("Oreshnik, again", "https://bbc.co.uk/news/3", None, 1)]
    return render_surge(lang, TOPIC[lang], 7, 5400.0, 2, 4.5, stories)


def _digest(lang: str) -> str:
    def entry(n, story, outlet, language, at, title=None):
        return DigestEntry("oreshnik", TOPIC[lang], f"story:{story}", n, title or f"Entry {n}",
                           language, outlet, at, link=f"https://example.org/{n}?a=1&b=2",
                           published_at=at, story_id=story)
    entries = [entry(1, 7, "TASS", "ru", NOW - 3 * HOUR, TITLES[lang]),
               entry(2, 7, "BBC", "en", NOW - 2 * HOUR), entry(3, 7, "RFI", "fr", NOW - HOUR),
               entry(4, 8, "Le Monde", "fr", NOW - 2 * DAY, "Two days old"),
               entry(5, 9, "RT", "en", NOW - 600, "Ten minutes old")]
    entries += [entry(10 + n, 20 + n, "Reuters", "en", NOW - n * 60, f"Minor {n}")
                for n in range(8)]
    period = format_time(datetime.fromtimestamp(NOW, UTC), ZONES[lang], lang)
    return "\n---\n".join(render_digest(lang, period, group_digest(entries)))


def _recent(lang: str) -> str:
    published = datetime.fromtimestamp(NOW - 25 * 60, UTC)
    found = [RecentMatch(title="Le missile Orechnik & l'Europe", link=(
        "https://www.nytimes.com/2026/11/29/world/europe/oreshnik.html?partner=rss&emc=rss"),
        feed_name="NYT World", language="fr", published=published, matched_at=published,
        terms=("orechnik",), entry_id=5)]
    return recent_listing(lang, ZONES[lang], "oreshnik", found, [TITLES[lang]], {5: 42})


def _feeds(lang: str) -> str:
    zone = ZoneInfo(ZONES[lang])
    failing = FeedHealth(1, NOW - 3 * DAY, "HTTP 503 Service Unavailable", NOW - 300,
                         NOW - 2 * DAY, 17, NOW + 600, 12345, NOW - 3 * DAY)
    stale = FeedHealth(2, NOW - 600, None, None, None, 0, NOW + 300, 310, NOW - 9 * DAY)
    return "\n\n".join([
        feed_block(Feed(1, "https://tass.ru/rss/v2.xml", "ru", "TASS"), failing, lang, zone,
                   NOW, 7 * DAY),
        feed_block(Feed(2, "https://www.rfi.fr/fr/rss", "fr", "RFI"), stale, lang, zone, NOW,
                   7 * DAY)])


def _trend(lang: str) -> str:
    zone = ZoneInfo(ZONES[lang])
    span = trend_span("7d", NOW, zone)
    counts = count_slots(span, [(NOW - n * 3 * HOUR, ("en", "fr", "ru")[n % 3])
                                for n in range(1200)])
    return trend_caption(lang, TOPIC[lang], span, ZONES[lang], counts)


def _health(lang: str) -> str:
    zone = ZoneInfo(ZONES[lang])
    name, url = "TASS <ru> & co", "https://tass.ru/rss/v2.xml?a=1&b=2"
    return "\n---\n".join(render_health_report(notice, lang, zone) for notice in (
        HealthNotice("failing", name, url, "HTTP 503 Service Unavailable", NOW - 25 * HOUR,
                     NOW - 26 * HOUR, NOW),
        HealthNotice("recovered", name, url, None, NOW - 25 * HOUR, NOW - 5 * 60, NOW),
        HealthNotice("stale", name, url, None, NOW - 7.5 * DAY, NOW - 90, NOW),
        HealthNotice("failing", name, url, "timed out after 20s", None, None, None)))


SCREENS = {"surge": _surge, "digest": _digest, "recent": _recent, "feeds": _feeds,
           "trend": _trend, "health": _health}
HTML = {"surge", "digest", "recent", "health"}


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_screen_matches_its_golden_file(screen, lang):
    text = SCREENS[screen](lang)
    path = GOLDEN / f"{screen}_{lang}.{'html' if screen in HTML else 'txt'}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == path.read_text(encoding="utf-8")
    if screen in HTML:
        for part in text.split("\n---\n"):
            assert telegram_length(parse_telegram_html(part)) <= 4096
