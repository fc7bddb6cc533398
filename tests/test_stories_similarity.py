"""Same event or not, across languages: signatures and their similarity."""

from bot.stories.cluster import THRESHOLD
from bot.stories.similarity import MIN_SHARED, StorySignature, similarity, story_signature

BBC = ("Zelensky meets Macron in Paris over long-range missiles",
       "Ukrainian leader Volodymyr Zelensky met Emmanuel Macron in the Elysee on Tuesday.")
LENTA = ("Зеленский встретился с Макроном в Париже",
         "Президент Украины Владимир Зеленский встретился с Эммануэлем Макроном во вторник.")
LENTA_PIVOT = ("Zelensky met Macron in Paris",
               "Ukrainian President Volodymyr Zelensky met Emmanuel Macron on Tuesday.")
FLOOD = ("Floods kill 12 in Bangladesh as monsoon rains swamp Dhaka",
         "Rescue teams searched for survivors after heavy rains.")


def test_same_event_across_languages_is_recognised_with_and_without_the_pivot():
    bbc = story_signature(*BBC, "en", "https://bbc.co.uk/news/1")
    pivoted = story_signature(*LENTA, "ru", "https://lenta.ru/news/2", *LENTA_PIVOT)
    unpivoted = story_signature(*LENTA, "ru", "https://lenta.ru/news/2")
    assert similarity(bbc, pivoted) >= THRESHOLD
    assert similarity(bbc, unpivoted) >= THRESHOLD


def test_transliterated_declined_names_meet_without_translation():
    bbc = story_signature(*BBC, "en", "")
    lenta = story_signature(*LENTA, "ru", "")
    names = {f for f in bbc.features & lenta.features if f.startswith("n:")}
    assert {"n:zlnsk", "n:mkrn", "n:vldmr"} <= names


def test_different_events_score_low():
    bbc = story_signature(*BBC, "en", "https://bbc.co.uk/news/1")
    flood = story_signature(*FLOOD, "en", "https://bbc.co.uk/news/3")
    assert similarity(bbc, flood) < 0.1


def test_same_link_is_the_same_story_whatever_the_text():
    a = story_signature("One title", "", "en", "https://www.example.org/a/")
    b = story_signature("Une autre", "", "fr", "https://example.org/a")
    assert similarity(a, b) == 1.0


def test_similarity_is_symmetric_and_bounded():
    sigs = [story_signature(*BBC, "en", "x"), story_signature(*LENTA, "ru", "y", *LENTA_PIVOT),
            story_signature(*LENTA, "ru", "z"), story_signature(*FLOOD, "en", "w")]
    for a in sigs:
        assert similarity(a, a) == 1.0
        for b in sigs:
            assert similarity(a, b) == similarity(b, a)
            assert 0.0 <= similarity(a, b) <= 1.0


def test_signature_round_trips_through_its_json_form():
    import json

    sig = story_signature(*LENTA, "ru", "https://lenta.ru/news/2", *LENTA_PIVOT)
    assert StorySignature.from_dict(json.loads(json.dumps(sig.to_dict()))) == sig


def test_language_without_stemmer_still_gets_name_features():
    sig = story_signature("Зеленський зустрівся з Макроном", "", "uk", "")
    assert "n:mkrn" in sig.features and not any(f.startswith("t:") for f in sig.features)


def test_one_shared_name_alone_scores_far_below_a_match():
    a = story_signature("Why Zelensky fired the head of the railway", "", "en", "")
    b = story_signature("Президент Зеленский встретился с фермерами", "", "ru", "")
    assert a.language_free & b.language_free == {"n:zlnsk"}
    assert similarity(a, b) <= 1.0 / MIN_SHARED < 1.0


def test_a_shared_year_weighs_less_than_a_shared_figure():
    year = story_signature("Report on 2016 growth", "", "en", "")
    year_too = story_signature("Rapport sur 2016", "", "fr", "")
    figure = story_signature("Report: 2345 jobs lost", "", "en", "")
    figure_too = story_signature("Rapport: 2345 emplois", "", "fr", "")
    assert "y:2016" in year.features and "d:2345" in figure.features
    assert similarity(year, year_too) < similarity(figure, figure_too)


def test_signature_keeps_its_feed_and_reads_one_stored_without_it():
    import json

    sig = story_signature(*BBC, "en", "https://bbc.co.uk/news/1", source=7)
    assert sig.source == "7"
    assert StorySignature.from_dict(json.loads(json.dumps(sig.to_dict()))) == sig
    stored_before = {k: v for k, v in sig.to_dict().items() if k != "src"}
    old = StorySignature.from_dict(stored_before)
    assert old.source == "" and old.features == sig.features
    assert similarity(old, sig) == 1.0
