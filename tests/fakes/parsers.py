"""Parse functions that misbehave on purpose, importable by the parse pool's workers."""

from __future__ import annotations

import os
import signal
import time

from bot.feeds.parse import parse_entries

NEVER_ENDS = b"<!-- this body never finishes parsing -->"
KILLS_ITS_WORKER = b"<!-- this body kills the process parsing it -->"


def parse_or_misbehave(body: bytes, *args):
    """parse_entries, except that a body carrying NEVER_ENDS spins forever and one
    carrying KILLS_ITS_WORKER ends its process as a crash would."""
    if NEVER_ENDS in body:
        while True:
            time.sleep(0.01)
    if KILLS_ITS_WORKER in body:
        os.kill(os.getpid(), signal.SIGKILL)
    return parse_entries(body, *args)


def grow(megabytes: int) -> int:
    """Keeps `megabytes` alive in the worker (its RSS grows past a small bound)."""
    global _kept
    _kept = bytearray(megabytes * 2**20)
    for i in range(0, len(_kept), 4096):
        _kept[i] = 1
    return os.getpid()


_kept = b""
