"""The labelled entry pairs of tests/fixtures/stories, read from the shared corpus,
with their English pivots fetched through the real translation path (the local
LibreTranslate fake serving hand-written translations). Used by the clustering
test and by benchmarks/stories.py."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.config import TranslationConfig
from bot.feeds.parse import parse_entries
from bot.model import Entry
from bot.store.db import Database
from bot.stories.cluster import OpenStories
from bot.stories.similarity import PIVOT, StorySignature, similarity, story_signature
from bot.translation import Translator
from tests.fakes.libretranslate import FakeLibreTranslate

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus"
FIXTURES = REPO / "tests" / "fixtures" / "stories"
_PARSED_AT = datetime(2030, 1, 1, tzinfo=UTC)

Ref = tuple[str, str]  # (corpus file under feeds/, entry key)


@dataclass(frozen=True)
class LabelledPair:
    a: Ref
    b: Ref
    same: bool
    note: str


@dataclass(frozen=True)
class Rates:
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int


def load_pairs() -> list[LabelledPair]:
    data = json.loads((FIXTURES / "pairs.json").read_text(encoding="utf-8"))
    return [
        LabelledPair((p["a"]["file"], p["a"]["key"]), (p["b"]["file"], p["b"]["key"]),
                     bool(p["same"]), p["note"])
        for p in data["pairs"]
    ]


def feed_language(file: str) -> str:
    return file.split("/")[0]


def corpus_refs(corpus: Path = CORPUS,
                languages: tuple[str, ...] = ("en", "fr", "ru")) -> dict[Ref, Entry]:
    """Every corpus entry of those languages by (file under feeds/, key), as pairs name them."""
    found: dict[Ref, Entry] = {}
    for language in languages:
        for path in sorted((corpus / "feeds" / language).glob("*.xml")):
            for entry in parse_entries(path.read_bytes(), None, language, _PARSED_AT):
                found.setdefault((f"{language}/{path.name}", entry.key), entry)
    return found


def chained_share(story_of: dict[Ref, int], sigs: dict[Ref, StorySignature],
                  threshold: float) -> tuple[int, int]:
    """Pairs of entries inside one story, and how many of them score below the
    threshold directly: held together only through other members."""
    members: dict[int, list[Ref]] = {}
    for ref, story in story_of.items():
        members.setdefault(story, []).append(ref)
    inside = chained = 0
    for refs in members.values():
        for i, a in enumerate(refs):
            for b in refs[i + 1:]:
                inside += 1
                chained += similarity(sigs[a], sigs[b]) < threshold
    return inside, chained


def load_entries(refs: set[Ref], corpus: Path = CORPUS) -> dict[Ref, Entry]:
    """The entries named by refs, parsed by the project's parser; KeyError names a missing one."""
    found: dict[Ref, Entry] = {}
    for file in sorted({file for file, _ in refs}):
        body = (corpus / "feeds" / file).read_bytes()
        for entry in parse_entries(body, None, feed_language(file), _PARSED_AT):
            if (file, entry.key) in refs:
                found[(file, entry.key)] = entry
    missing = refs - found.keys()
    if missing:
        raise KeyError(f"labelled entries not in the corpus: {sorted(missing)[:3]}")
    return found


async def pivot_translations(entries: dict[Ref, Entry]) -> tuple[dict[Ref, tuple[str, str]], int]:
    """English title and summary of every non-English entry, through Translator and
    deep-translator's LibreTranslator against the local fake; and how many texts the
    fake did not know (echoed back untranslated)."""
    known = json.loads((FIXTURES / "pivot_en.json").read_text(encoding="utf-8"))["translations"]
    pivots: dict[Ref, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory() as folder, FakeLibreTranslate(known) as server:
        db = await Database.open(Path(folder) / "pivot.sqlite3")
        config = TranslationConfig(provider="libre", base_url=server.url, api_key="k", timeout=10)
        translator = await Translator.create(config, db)
        try:
            for ref, entry in entries.items():
                if entry.language == PIVOT:
                    continue
                done = await translator.translate_entry(entry.title, entry.summary,
                                                        entry.language, PIVOT)
                if not done.translated:
                    raise RuntimeError(f"pivot translation failed for {ref}: {done.note}")
                pivots[ref] = (done.title, done.summary)
        finally:
            await translator.close()
            await db.close()
    # The fake marks a text it has no translation for as "[en] <original>".
    echoed = sum(text.startswith("[en] ") for pair in pivots.values() for text in pair)
    return pivots, echoed


def signatures(entries: dict[Ref, Entry],
               pivots: dict[Ref, tuple[str, str]] | None) -> dict[Ref, StorySignature]:
    """Every entry's signature; with `pivots`, non-English entries carry their English."""
    result = {}
    for ref, entry in entries.items():
        pivot = (pivots or {}).get(ref, (None, None))
        result[ref] = story_signature(entry.title, entry.summary, entry.language, entry.link,
                                      *pivot, source=ref[0])
    return result


def rates(pairs: list[LabelledPair], sigs: dict[Ref, StorySignature],
          threshold: float) -> Rates:
    """Precision and recall of "same event" = similarity at or above threshold."""
    tp = fp = fn = 0
    for pair in pairs:
        predicted = similarity(sigs[pair.a], sigs[pair.b]) >= threshold
        tp += predicted and pair.same
        fp += predicted and not pair.same
        fn += pair.same and not predicted
    return Rates(tp / max(1, tp + fp), tp / max(1, tp + fn), tp, fp, fn)


def is_cross_language(pair: LabelledPair) -> bool:
    return feed_language(pair.a[0]) != feed_language(pair.b[0])


def cluster_in_order(entries: dict[Ref, Entry], sigs: dict[Ref, StorySignature],
                     threshold: float, window: float, **options) -> dict[Ref, int]:
    """Each entry's story when the entries arrive in publication order, as in the service;
    `options` go to OpenStories (the linkage, feed habits)."""
    stories = OpenStories(threshold, **options)
    story_of: dict[Ref, int] = {}
    for ref in sorted(entries, key=lambda r: (entries[r].published, r)):
        at = entries[ref].published.timestamp()
        story = stories.best_story(sigs[ref], at, window)
        if story is None:
            story = len(story_of)
            stories.add(story, sigs[ref], at)
        else:
            stories.join(story, sigs[ref], at)
        story_of[ref] = story
    return story_of


def cluster_rates(pairs: list[LabelledPair], story_of: dict[Ref, int]) -> Rates:
    """Precision and recall of "same event" = both entries in one story."""
    tp = fp = fn = 0
    for pair in pairs:
        predicted = story_of[pair.a] == story_of[pair.b]
        tp += predicted and pair.same
        fp += predicted and not pair.same
        fn += pair.same and not predicted
    return Rates(tp / max(1, tp + fp), tp / max(1, tp + fn), tp, fp, fn)


STORY_WINDOW = 48 * 3600.0  # the service's default stories.window


@dataclass(frozen=True)
class Measurement:
    pairwise: Rates  # entry against entry: similarity >= threshold
    pairwise_cross: Rates
    clustered: Rates  # as the service groups: entries in order through OpenStories
    clustered_cross: Rates


def load_labelled(corpus: Path = CORPUS) -> tuple[list[LabelledPair], dict[Ref, Entry]]:
    pairs = load_pairs()
    return pairs, load_entries({p.a for p in pairs} | {p.b for p in pairs}, corpus)


def measure(pairs: list[LabelledPair], entries: dict[Ref, Entry],
            pivots: dict[Ref, tuple[str, str]] | None, threshold: float,
            window: float = STORY_WINDOW, **options) -> Measurement:
    sigs = signatures(entries, pivots)
    cross = [p for p in pairs if is_cross_language(p)]
    story_of = cluster_in_order(entries, sigs, threshold, window, **options)
    return Measurement(rates(pairs, sigs, threshold), rates(cross, sigs, threshold),
                       cluster_rates(pairs, story_of), cluster_rates(cross, story_of))
