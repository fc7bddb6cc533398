"""What /export writes and /import reads, and the reply catalogs in three languages."""

import re
import string
import tomllib

import pytest

from bot.feeds.opml import OpmlError, OpmlOutline, read_opml, write_opml
from bot.i18n import catalog, t
from bot.model import LANGUAGES, Topic
from bot.topics.toml_file import write_topics_toml


def test_opml_round_trips_urls_titles_and_languages():
    feeds = [OpmlOutline("https://www.lemonde.fr/rss/une.xml?a=1&b=2", "Le Monde · À la une",
                         "fr"),
             OpmlOutline("https://tass.ru/rss/v2.xml", 'ТАСС "лента"', "ru")]
    read = read_opml(write_opml(feeds))
    assert [(f.url, f.title, f.language) for f in read] == [
        (f.url, f.title, f.language) for f in feeds]


def test_opml_reads_nested_outlines_once_each():
    data = b"""<?xml version="1.0"?><opml version="1.0"><head/><body>
      <outline text="News">
      <outline text="BBC" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
      <outline text="BBC again" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/></outline>
      <outline text="no url"/></body></opml>"""
    assert [f.title for f in read_opml(data)] == ["BBC"]


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    b'<opml><body><outline xmlUrl="http://x/&lol2;"/></body></opml>',
    b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "http://127.0.0.1:9/evil.dtd"><opml/>',
    b'<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><opml><body>'
    b'<outline xmlUrl="&xxe;"/></body></opml>',
])
def test_opml_with_a_doctype_is_refused(data):
    with pytest.raises(OpmlError, match="DOCTYPE"):
        read_opml(data)


@pytest.mark.parametrize("data", [b"not xml", b"<rss><channel/></rss>", b"<opml><body>"])
def test_non_opml_is_refused_with_a_reason(data):
    with pytest.raises(OpmlError):
        read_opml(data)


def test_topics_toml_reads_back_as_config_topics():
    queries = {"en": '"storm shadow" OR troops', "ru": "войска AND украина"}
    topics = [Topic("troops", 'Troops "west" \\ Ukraine', queries)]
    data = tomllib.loads(write_topics_toml(topics).decode())
    assert data["topics"] == [{"name": "troops", "title": 'Troops "west" \\ Ukraine', **queries}]


def test_topics_toml_keeps_the_titles_per_language():
    topic = Topic("gas", "Gas", {"en": "gas"}, {"en": "Gas", "fr": "Gaz", "ru": "Газ"})
    data = tomllib.loads(write_topics_toml([topic]).decode())
    assert data["topics"] == [{"name": "gas", "title": "Gas", "title_fr": "Gaz",
                               "title_ru": "Газ", "en": "gas"}]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_every_string_with_the_same_placeholders():
    english = catalog("en")
    for lang in LANGUAGES:
        assert catalog(lang).keys() == english.keys(), lang
        for key, text in catalog(lang).items():
            assert _fields(text) == _fields(english[key]), (lang, key)


# Words French writes as English does: a copy there is the translation.
SAME_IN_FRENCH = {"search.entries.one", "search.entries.few", "search.entries.many"}


def test_french_and_russian_are_translations_not_copies():
    for lang in ("fr", "ru"):
        same = [key for key, text in catalog(lang).items()
                if text == catalog("en")[key]
                and not (lang == "fr" and key in SAME_IN_FRENCH)
                # placeholders and command names are the same in every language
                and re.search(r"[a-z]{4}", re.sub(r"\{\w+\}|/\w+", "", text))]
        assert same == [], lang
    assert re.search("[а-я]", t("ru", "start.greeting"))


def test_unknown_language_falls_back_to_english():
    assert t("de", "subscribe.done", names="x") == t("en", "subscribe.done", names="x")
