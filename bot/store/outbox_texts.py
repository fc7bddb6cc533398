"""Outbox rows that carry a text of their own (digest parts, surge alerts, health reports,
notices), queued inside the transaction that decided them.

Apart from `outbox.py` so that every store module that decides such a message
(digests, entries, reports) can queue it without importing the alert ledger.
"""

from __future__ import annotations

import json

TEXT_KINDS = ("digest", "surge", "health", "notice")


async def queue_text(conn, kind: str, chat_id: int, key: str, now: float, *,
                     body: str | None = None, notice: dict | None = None,
                     thread_id: int | None = None, silent: bool = False) -> bool:
    """Inside the caller's transaction (the one that decided it): queue a message with
    a text of its own. `key` makes it once per chat: False if it was queued before."""
    assert kind in TEXT_KINDS and (body is None) != (notice is None)
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO outbox (alert_key, topic_id, chat_id, thread_id, state, "
        "next_attempt_at, created_at, kind, body, notice, silent) "
        "VALUES (?, 0, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)",
        (key, chat_id, thread_id, now, now, kind, body,
         json.dumps(notice, ensure_ascii=False) if notice is not None else None, int(silent)))
    return cursor.rowcount > 0
