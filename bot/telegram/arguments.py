"""Numbers typed by users or carried in button data, read without surprises.

`str.isdigit()` accepts "¹" and "٣", which `int()` refuses or reads; a forged
button may carry an id too large for SQLite. Every handler reads its numbers
here, so each such input is an ordinary "no"."""

from __future__ import annotations

LARGEST_ID = 2**63 - 1  # SQLite's largest integer


def positive_int(text: str, maximum: int = LARGEST_ID) -> int | None:
    """The number 1..maximum written in ASCII digits, else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if 1 <= number <= maximum else None
