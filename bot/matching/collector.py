"""The garbage-collector policy while topics are compiled (see `collector_paused`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

MANY_NEW_OBJECTS = 50_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """Compiling allocates hundreds of thousands of long-lived, acyclic objects; the
    cyclic garbage collector would rescan them over and over (nearly half of the
    compile time at 10,000 topics) and find nothing to free.

    Left to itself, the collector would scan them during the first entries matched,
    at tens of milliseconds per collection (a full one among them, as they add more
    than a quarter to the heap). A large compile therefore ends with gc.freeze():
    everything alive is moved out of the collector's sight at no scanning cost.
    Reference counting still frees what an edit later replaces; only a reference
    cycle made before the freeze would outlive its use, and the index makes none."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            if gc.get_count()[0] > MANY_NEW_OBJECTS:
                gc.freeze()
