"""Benchmark: coverage-story clustering, quality and cost.

Quality, on the development set written for it (tests/fixtures/stories/events.txt:
fr/en/ru items of labelled events, hard negatives that share people, places or
weapons, roundups), with the English pivots served through the real translation
path (deep-translator -> local LibreTranslate fake). The threshold is chosen on
one half of the events (best B-cubed F1 with no hard negative merged; the middle
of the best range) and reported on the other half, then on the whole set; the
same rule with words alone (no event evidence: what happened, when, which
outlet, roundups) runs beside it as the baseline. Then the blind set
(tests/fixtures/stories/blind.txt), written after the method was fixed and never
used to choose anything.

Real news (if the shared corpus is there): precision and recall on the older
hand-labelled pairs of real corpus entries (tests/fixtures/stories/pairs.json,
whose labels count a reaction or a follow-up as the same event), and every
corpus entry clustered in publication order: story sizes, the largest stories,
pairs held together only through other members (chained).

Cost: one entry clustered against 1,000 open stories built from real corpus
entries, indexed (OpenStories.best_story) next to the baseline measured in the
same run: the same entry compared with every open story (brute force); and the
memory the open stories hold.

    .venv/bin/python benchmarks/stories.py [--corpus PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.stories.cluster import THRESHOLD, OpenStories
from bot.stories.similarity import StorySignature, story_signature
from tests.story_events import (
    EVENTS,
    Item,
    Scores,
    cluster_items,
    half_of,
    item_signatures,
    load_items,
    pivots_through_translator,
    score,
)
from tests.story_pairs import (
    CORPUS,
    STORY_WINDOW,
    chained_share,
    cluster_in_order,
    cluster_rates,
    corpus_refs,
    load_labelled,
    pivot_translations,
    signatures,
)

BLIND = EVENTS.parent / "blind.txt"
# Words alone, as before event evidence: the baseline beside every figure.
METHODS = (("event evidence", {}), ("words alone (baseline)", {"event_evidence": False}))
CANDIDATES = [t / 100 for t in range(10, 42, 2)]
OPEN_STORIES = 1_000
REPEATS = 3


def choose_threshold(items: list[Item], sigs, **options) -> tuple[float, float]:
    """The threshold for `items` (one half): the fewest hard negatives merged, then
    the best B-cubed F1, the middle of the thresholds that reach both; and that F1."""
    scored = []
    for threshold in CANDIDATES:
        found = score(items, cluster_items(items, sigs, threshold=threshold, **options))
        scored.append(((-found.hard_negatives_merged, round(found.bcubed_f1, 9)), threshold))
    best = max(key for key, _ in scored)
    tied = [t for key, t in scored if key == best]
    return tied[len(tied) // 2], best[1]


def line(name: str, found: Scores) -> str:
    return (f"  {name:<44}{found.precision:>6.3f}{found.recall:>7.3f}{found.bcubed_f1:>7.3f}"
            f"{found.hard_negatives_merged:>6} of {found.hard_negatives:<5}"
            f"{found.largest_story:>5}{found.russian_pairs_together:>6} of {found.russian_pairs}")


HEADER = (f"  {'':<44}{'P':>6}{'R':>7}{'B3 F1':>7}{'hard negatives':>15}{'largest':>9}"
          f"{'ru pairs':>11}")


def quality() -> None:
    items = load_items()
    pivots = asyncio.run(pivots_through_translator(items))
    sigs = item_signatures(items, pivots)
    halves = [[item for item in items if half_of(item.event) == h] for h in (0, 1)]
    labelled = [item for item in items if item.labelled]
    print(f"development set: {len(items)} items ({len(labelled)} labelled, "
          f"{len(items) - len(labelled)} roundups), "
          f"{len({i.event for i in labelled})} events, languages "
          f"{dict(Counter(i.language for i in items))}, {len(pivots)} pivots through the "
          f"translator; halves by event: {len(halves[0])} / {len(halves[1])} items")
    for method, options in METHODS:
        threshold, tuned_f1 = choose_threshold(halves[0], sigs, **options)
        print(f"\n{method}: threshold {threshold:.2f} chosen on half 0 "
              f"(B3 F1 {tuned_f1:.3f} there); default in bot/stories/cluster.py {THRESHOLD}")
        print(HEADER)
        for name, part in (("held-out half 1 (alone in the stream)", halves[1]),
                           ("whole set", items)):
            story_of = cluster_items(part, sigs, threshold=threshold, **options)
            print(line(name, score(part, story_of)))
        story_of = cluster_items(items, sigs, threshold=threshold, **options)
        inside, chained = chained_share(story_of, sigs, threshold)
        print(f"  whole set: {inside} pairs inside stories, {chained} of them below the "
              f"threshold directly (held together through other members)")
        blind = load_items(BLIND)
        blind_sigs = item_signatures(blind, asyncio.run(pivots_through_translator(blind)))
        found = score(blind, cluster_items(blind, blind_sigs, threshold=threshold, **options))
        print(line(f"blind set ({found.items} items, {found.events} events)", found))


def corpus_pairs(corpus: Path) -> None:
    """The older labelled pairs of real corpus entries, clustered as the service does."""
    pairs, entries = load_labelled(corpus)
    pivots, _ = asyncio.run(pivot_translations(entries))
    sigs = signatures(entries, pivots)
    same = sum(p.same for p in pairs)
    print(f"\nreal corpus pairs (older labels: a reaction or follow-up counts as the same "
          f"event): {len(pairs)} pairs, {same} same event, {len(entries)} entries, threshold "
          f"{THRESHOLD}")
    for method, options in METHODS:
        story_of = cluster_in_order(entries, sigs, THRESHOLD, STORY_WINDOW, **options)
        found = cluster_rates(pairs, story_of)
        print(f"  {method:<30} P {found.precision:.3f}  R {found.recall:.3f}  "
              f"(different events together: {found.false_positives})")


def whole_corpus(corpus: Path) -> None:
    """Every corpus entry clustered in publication order, with and without event evidence."""
    entries = corpus_refs(corpus)
    sigs = {ref: story_signature(e.title, e.summary, e.language, e.link, source=ref[0])
            for ref, e in entries.items()}
    print(f"\nwhole corpus: {len(entries):,} en/fr/ru entries clustered in publication order "
          f"(no pivot, {STORY_WINDOW / 3600:.0f} h window), threshold {THRESHOLD}")
    for method, options in METHODS:
        story_of = cluster_in_order(entries, sigs, THRESHOLD, STORY_WINDOW, **options)
        members = defaultdict(list)
        for ref, story in story_of.items():
            members[story].append(ref)
        sizes = Counter(len(refs) for refs in members.values())
        bands = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (21, 10**9))
        counts = [sum(n for size, n in sizes.items() if low <= size <= high)
                  for low, high in bands]
        inside, chained = chained_share(story_of, sigs, THRESHOLD)
        print(f"\n  {method}: {len(members):,} stories; sizes 1 / 2 / 3-5 / 6-10 / 11-20 / >20: "
              f"{' / '.join(map(str, counts))}")
        print(f"    pairs inside a story: {inside:,}, of them {chained:,} "
              f"({chained / max(1, inside):.0%}) below the threshold directly (chained)")
        for refs in sorted(members.values(), key=len, reverse=True)[:3]:
            feeds = len({file for file, _ in refs})
            titles = " | ".join(entries[ref].title[:50] for ref in refs[:3])
            print(f"    {len(refs):>3} entries, {feeds} feeds: {titles}")


def cost(corpus: Path) -> None:
    refs = corpus_refs(corpus)
    entries = list(refs.values())
    started = time.perf_counter()
    sigs = [story_signature(e.title, e.summary, e.language, e.link, source=ref[0])
            for ref, e in refs.items()]
    per_signature = (time.perf_counter() - started) / len(entries)
    opened, queries = sigs[:OPEN_STORIES], sigs[OPEN_STORIES:]
    if len(opened) < OPEN_STORIES or not queries:
        sys.exit(f"the corpus has {len(sigs)} entries; {OPEN_STORIES + 1} are needed")
    tracemalloc.start()
    stories = OpenStories()
    for story_id, sig in enumerate(opened):
        stories.add(story_id, sig, at=0.0)
    held = [tracemalloc.get_traced_memory()[0]]
    # A story keeps its core only: once the cores are full, more entries joining
    # the same stories leave the memory where it was.
    for round_ in range(1, 11):
        for n, sig in enumerate(queries[:OPEN_STORIES]):
            stories.join(n % OPEN_STORIES, sig, at=round_ / 100)
        if round_ in (5, 10):
            held.append(tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    stories = OpenStories()
    for story_id, sig in enumerate(opened):
        stories.add(story_id, sig, at=0.0)
    baseline = OpenStories(event_evidence=False)
    for story_id, sig in enumerate(opened):
        baseline.add(story_id, sig, at=0.0)

    def brute_force(sig: StorySignature) -> float | None:
        """The best score over every open story, if any reaches the threshold."""
        stories.expire(1.0, STORY_WINDOW)
        match = stories.best_match(sig, 1.0, STORY_WINDOW, exhaustive=True)
        return match.score if match else None

    def indexed(sig: StorySignature, stories: OpenStories = stories) -> float | None:
        stories.expire(1.0, STORY_WINDOW)  # the service expires before each placement
        match = stories.best_match(sig, 1.0, STORY_WINDOW)
        return match.score if match else None

    def timed(find) -> tuple[list[float], list]:
        """Each query's best of REPEATS runs: the machine is shared, and the
        same treatment for both sides keeps the ratio fair."""
        times, found = [], []
        for sig in queries:
            best = math.inf
            for _ in range(REPEATS):
                start = time.perf_counter()
                result = find(sig)
                best = min(best, time.perf_counter() - start)
            found.append(result)
            times.append(best)
        return times, found

    indexed_times, indexed_found = timed(indexed)
    words_times, _ = timed(lambda sig: indexed(sig, baseline))
    brute_times, brute_found = timed(brute_force)
    agree = sum(a == b or (a is not None and b is not None and math.isclose(a, b))
                for a, b in zip(indexed_found, brute_found)) / len(queries)

    def timing(name: str, times: list[float]) -> str:
        ordered = sorted(times)
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        return (f"  {name:<40}mean {statistics.fmean(times) * 1e3:7.3f} ms   "
                f"median {statistics.median(times) * 1e3:7.3f} ms   p99 {p99 * 1e3:7.3f} ms")

    print(f"\none entry against {OPEN_STORIES:,} open stories ({len(queries):,} corpus entries "
          f"clustered, en/fr/ru, no pivot; best of {REPEATS} runs each; budget 2 ms)")
    print(timing("indexed: expire + best_story", indexed_times))
    print(timing("baseline: brute force (same rule)", brute_times))
    print(timing("words alone, indexed", words_times))
    print(f"  speed-up {statistics.fmean(brute_times) / statistics.fmean(indexed_times):.1f}x; "
          f"same best score (same story, up to ties) for {agree:.1%} of entries")
    print(f"  signature of one entry (once per entry): {per_signature * 1e3:.3f} ms; "
          f"signature + placement: {(per_signature + statistics.fmean(indexed_times)) * 1e3:.3f}"
          f" ms per entry")
    print(f"  memory of {OPEN_STORIES:,} open stories of one entry: {held[0] / 2**20:.1f} MiB; "
          f"after 5 and 10 more entries joined each: {held[1] / 2**20:.1f} / "
          f"{held[2] / 2**20:.1f} MiB (bounded: a story keeps its core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}\n")
    quality()
    if not (args.corpus / "feeds").is_dir():
        print(f"\ncorpus not found at {args.corpus}: real-news figures and cost left out")
        return
    corpus_pairs(args.corpus)
    whole_corpus(args.corpus)
    cost(args.corpus)


if __name__ == "__main__":
    main()
