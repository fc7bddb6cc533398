"""The config file is a seed, and the last change wins: a feed or topic takes its file entry's
values only when that entry is new or changed since the previous start; otherwise what
admins changed in chat stays, deletions included."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping


def entry_digest(entry: object) -> str:
    """A stable fingerprint of one config entry (a frozen dataclass)."""
    fields = dataclasses.asdict(entry) if dataclasses.is_dataclass(entry) else vars(entry)
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False,
                      default=lambda o: dict(o) if isinstance(o, Mapping) else str(o))
    return hashlib.sha256(text.encode()).hexdigest()


async def entry_changed(conn, kind: str, name: str, entry: object) -> bool:
    """Inside the sync's transaction: whether the file's `entry` for this item is new or
    changed since the last start (and remember it as seen, for the next one)."""
    digest = entry_digest(entry)
    row = await (await conn.execute(
        "SELECT digest FROM config_seeds WHERE kind = ? AND name = ?", (kind, name))).fetchone()
    if row is not None and row[0] == digest:
        return False
    await conn.execute(
        "INSERT INTO config_seeds (kind, name, digest) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, name) DO UPDATE SET digest = excluded.digest", (kind, name, digest))
    return True
