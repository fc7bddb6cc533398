"""A response body decoded from its content codings without ever exceeding a byte cap.

httpx inflates each network chunk whole, through every layer, before a caller can
count a byte: 3 KB of `gzip, gzip` becomes gigabytes. Here each layer inflates at
most STEP bytes at a time and stops past the cap, so memory stays at the cap plus
a few steps whatever the codings, and no single step holds the event loop long.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, Iterator

from bot.feeds import FeedError

STEP = 64 * 1024
MAX_LAYERS = 2  # gzip over deflate is legal HTTP; deeper stacks are only ever attacks


class BodyTooLarge(FeedError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"response larger than {max_bytes} bytes")


class _Inflater:
    """One gzip or deflate layer, handing out its output STEP bytes at a time."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._z = (zlib.decompressobj(zlib.MAX_WBITS | 16)
                   if coding in ("gzip", "x-gzip") else None)

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._z is None:  # deflate: zlib-wrapped as the RFC says, or raw as IIS sent it
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        z = self._z
        while data and not z.eof:
            try:
                piece = z.decompress(data, STEP)
            except zlib.error as exc:
                raise FeedError(f"bad {self.coding} body: {exc}") from None
            data = z.unconsumed_tail
            if piece:
                yield piece
            # A full step may leave output inside zlib even with no input left.
            while not data and len(piece) == STEP and not z.eof:
                piece = z.decompress(b"", STEP)
                if piece:
                    yield piece


def _layers(content_encoding: str) -> list[_Inflater]:
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > MAX_LAYERS:
        raise FeedError(f"refused: {len(codings)} stacked content encodings")
    for coding in codings:
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise FeedError(f"unsupported content encoding {coding!r}")
    # Codings are listed in the order they were applied: undo the last first.
    return [_Inflater(c) for c in reversed(codings)]


async def read_decoded(raw_chunks: AsyncIterable[bytes], content_encoding: str,
                       max_bytes: int) -> bytes:
    """The body with its content codings undone; BodyTooLarge past `max_bytes`
    at any layer (compressed, or any stage of decompression)."""
    layers = _layers(content_encoding)
    counts = [0] * (len(layers) + 1)
    out: list[bytes] = []

    def through(depth: int, data: bytes) -> None:
        counts[depth] += len(data)
        if counts[depth] > max_bytes:
            raise BodyTooLarge(max_bytes)
        if depth == len(layers):
            out.append(data)
            return
        for piece in layers[depth].decode(data):
            through(depth + 1, piece)

    async for chunk in raw_chunks:
        through(0, chunk)
    return b"".join(out)
