"""The hand-written development set of tests/fixtures/stories/events.txt: items of
labelled events in English, French and Russian, with the English translations of
the French and Russian ones served as pivots through the real translation path
(the local LibreTranslate fake). Read by the clustering tests and benchmarks/stories.py."""

from __future__ import annotations

import tempfile
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

from bot.config import TranslationConfig
from bot.store.db import Database
from bot.stories.cluster import OpenStories
from bot.stories.similarity import PIVOT, StorySignature, story_signature
from bot.translation import Translator
from tests.fakes.libretranslate import FakeLibreTranslate, known_key

EVENTS = Path(__file__).resolve().parent / "fixtures" / "stories" / "events.txt"
WINDOW = 48 * 3600.0  # the service's default stories.window
ROUNDUP = "roundup"


@dataclass(frozen=True)
class Item:
    number: int
    event: str
    family: str
    outlet: str
    language: str
    published: datetime
    title: str
    summary: str
    pivot_title: str | None = None
    pivot_summary: str | None = None

    @property
    def link(self) -> str:
        return f"https://{self.outlet.lower().replace(' ', '-')}.example/a/{self.number}"

    @property
    def labelled(self) -> bool:
        """In the labelled pairs: a roundup names several events, so none."""
        return not self.event.startswith(ROUNDUP)


def load_items(path: Path = EVENTS) -> list[Item]:
    """The items in file order; ValueError names a malformed block."""
    items: list[Item] = []
    event = family = ""
    blocks = [b for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    for block in blocks:
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        if lines and lines[0].startswith("== "):
            event, family = (part.strip() for part in lines.pop(0)[3:].split("|"))
        if not lines:
            continue
        try:
            outlet, language, published = (part.strip() for part in lines[0].split("|"))
            text = [line for line in lines[1:] if not line.startswith("> ")]
            pivot = [line[2:] for line in lines[1:] if line.startswith("> ")]
            title, summary = text
            if (language == PIVOT) != (not pivot):
                raise ValueError("a pivot is needed exactly for non-English items")
        except ValueError as exc:
            raise ValueError(f"malformed item in {event}: {lines[0]!r}: {exc}") from None
        items.append(Item(len(items), event, family, outlet, language,
                          datetime.fromisoformat(published).replace(tzinfo=UTC), title, summary,
                          *(pivot or (None, None))))
    return items


def half_of(event: str) -> int:
    """Which half an event falls in, the same on every run: 0 tunes, 1 is held out."""
    return zlib.crc32(event.encode()) % 2


async def pivots_through_translator(items: Iterable[Item]) -> dict[int, tuple[str, str]]:
    """Each non-English item's English title and summary, as the service gets them:
    Translator -> deep-translator -> the LibreTranslate fake serving the set's translations."""
    items = [item for item in items if item.language != PIVOT]
    known = {}
    for item in items:
        known[known_key(item.title, item.language, PIVOT)] = item.pivot_title
        known[known_key(item.summary, item.language, PIVOT)] = item.pivot_summary
    found: dict[int, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory() as folder, FakeLibreTranslate(known) as server:
        db = await Database.open(Path(folder) / "pivot.sqlite3")
        config = TranslationConfig(provider="libre", base_url=server.url, api_key="k", timeout=10)
        translator = await Translator.create(config, db)
        try:
            for item in items:
                done = await translator.translate_entry(item.title, item.summary,
                                                        item.language, PIVOT)
                if not done.translated or done.title.startswith("[en] "):
                    raise RuntimeError(f"no pivot for item {item.number}: {done.note}")
                found[item.number] = (done.title, done.summary)
        finally:
            await translator.close()
            await db.close()
    return found


def item_signatures(items: list[Item], pivots: dict[int, tuple[str, str]] | None
                    ) -> dict[int, StorySignature]:
    """Every item's signature, its outlet as source; with `pivots`, its English too."""
    return {item.number: story_signature(item.title, item.summary, item.language, item.link,
                                         *(pivots or {}).get(item.number, (None, None)),
                                         source=item.outlet)
            for item in items}


def cluster_items(items: list[Item], sigs: dict[int, StorySignature],
                  window: float = WINDOW, **options) -> dict[int, int]:
    """Each item's story when the items arrive in publication order, as in the service."""
    stories = OpenStories(**options)
    story_of: dict[int, int] = {}
    for item in sorted(items, key=lambda i: (i.published, i.number)):
        at = item.published.timestamp()
        stories.expire(at, window)
        story = stories.best_story(sigs[item.number], at, window)
        if story is None:
            story = item.number
            stories.add(story, sigs[item.number], at)
        else:
            stories.join(story, sigs[item.number], at)
        story_of[item.number] = story
    return story_of


@dataclass(frozen=True)
class Scores:
    items: int
    events: int
    precision: float  # pairwise: pairs in one story that are one event
    recall: float  # pairwise: pairs of one event that are in one story
    bcubed_f1: float
    hard_negatives: int  # pairs of one family, different events
    hard_negatives_merged: int
    largest_story: int
    russian_pairs: int  # same-event pairs of a Russian item with an English or French one
    russian_pairs_together: int


def hard_negative(a: Item, b: Item) -> bool:
    return a.family == b.family and a.event != b.event


def score(items: list[Item], story_of: dict[int, int]) -> Scores:
    """Figures over the labelled items (roundups are clustered but not scored)."""
    labelled = [item for item in items if item.labelled]
    tp = fp = fn = hard = hard_merged = ru = ru_together = 0
    for a, b in combinations(labelled, 2):
        together = story_of[a.number] == story_of[b.number]
        same = a.event == b.event
        tp += together and same
        fp += together and not same
        fn += same and not together
        if hard_negative(a, b):
            hard += 1
            hard_merged += together
        if same and "ru" in (a.language, b.language) and a.language != b.language:
            ru += 1
            ru_together += together
    by_story, by_event = defaultdict(list), defaultdict(list)
    for item in labelled:
        by_story[story_of[item.number]].append(item)
        by_event[item.event].append(item)
    precision_b = recall_b = 0.0
    for item in labelled:
        story, event = by_story[story_of[item.number]], by_event[item.event]
        common = sum(other.event == item.event for other in story)
        precision_b += common / len(story)
        recall_b += common / len(event)
    precision_b, recall_b = precision_b / len(labelled), recall_b / len(labelled)
    return Scores(len(labelled), len(by_event), tp / max(1, tp + fp), tp / max(1, tp + fn),
                  2 * precision_b * recall_b / max(1e-9, precision_b + recall_b), hard,
                  hard_merged, max(len(members) for members in by_story.values()), ru,
                  ru_together)
