"""Parsing topic queries: hostile input is refused as fast as an ordinary query is read.

Run: .venv/bin/python benchmarks/query_parsing.py [--examples N] [--seed N]
The baseline, measured in the same run, is an ordinary accepted query of about
the same length (words joined by OR, at most the 100 terms allowed): the pathological inputs (deep brackets, runs of NOT,
quotes and dashes, a hundred ORs) and random strings over the query alphabet are
printed next to it as a ratio. Targets: every pathological input under 0.5 s in
all, no random string over 0.1 s (the parser must never be super-linear).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.matching.query import MAX_QUERY_LENGTH, MAX_TERMS, QueryError, parse_query

PATHOLOGICAL = {
    "999 open brackets": "(" * 999,
    "250 NOTs": "NOT " * 250,
    "999 quotes": '"' * 999,
    "200 ORs": "a OR " * 199 + "a",
    "999 dashes": "-" * 999,
    "333 apostrophe words": "‘a " * 333,
    "999 guillemets": "«" * 999,
    "999 apostrophes": "‘" * 999,
}
ALPHABET = [*'()"*- \t«»“”„‘’‹›ʼ\u00ad\u200b', "AND", "OR", "NOT", "a", "é", "й", "ё", "œ",
            "\u0301", "1"]
RUNS = 5


def seconds(text: str) -> float:
    """Best of RUNS: the parser's own cost, not the machine's other work."""
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        try:
            parse_query(text, "en")
        except QueryError:
            pass
        best = min(best, time.perf_counter() - start)
    return best


def ordinary(length: int) -> str:
    """A valid query of about `length` characters (at most MAX_TERMS terms)."""
    words = ["troops", "ukraine", "peace", "talks", "europe", "missiles"]
    terms: list[str] = []
    while len(terms) < MAX_TERMS:
        longer = " OR ".join([*terms, words[len(terms) % len(words)]])
        if len(longer) > min(length, MAX_QUERY_LENGTH):
            break
        terms = longer.split(" OR ")
    text = " OR ".join(terms)
    parse_query(text, "en")  # raises if it is not an ordinary, accepted query
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print(f"best of {RUNS} runs each")
    total = 0.0
    for name, text in PATHOLOGICAL.items():
        baseline = seconds(ordinary(len(text)))
        cost = seconds(text)
        total += cost
        print(f"  {name:<22} {cost * 1e3:8.3f} ms   ordinary query "
              f"{baseline * 1e3:7.3f} ms   x{cost / baseline:.1f}")
    print(f"pathological inputs in all: {total * 1e3:.1f} ms (target < 500 ms)")

    rng = random.Random(args.seed)
    costs = []
    for _ in range(args.examples):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 300)))
        costs.append((seconds(text), text))
    costs.sort()
    worst, worst_text = costs[-1]
    baseline = seconds(ordinary(len(worst_text)))
    print(f"{args.examples} random strings of up to 300 symbols: median "
          f"{statistics.median(c for c, _ in costs) * 1e3:.3f} ms, worst {worst * 1e3:.3f} ms "
          f"(target < 100 ms; ordinary query as long {baseline * 1e3:.3f} ms)")


if __name__ == "__main__":
    main()
