-- Digests and surge alerts. Times are UNIX seconds (REAL, UTC).

-- What a chat gets besides instant alerts. No row: instant alerts, surges on.
CREATE TABLE chat_digest_settings (
    chat_id       INTEGER PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
    digest        TEXT NOT NULL DEFAULT 'off',  -- off | hourly | daily HH:MM | every 5m
    surges        INTEGER NOT NULL DEFAULT 1,
    changed_at    REAL NOT NULL
);

-- The ledger of digests and surge alerts: written, with its rendered messages,
-- before any send; UNIQUE makes "one digest per (chat, period end)" and "one
-- surge alert per (chat, topic, day)" constraints.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,       -- digest | surge
    chat_id         INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    key             TEXT NOT NULL,       -- digest: period end; surge: topic id and local day
    parts           TEXT NOT NULL,       -- JSON list of HTML messages, sent in order
    parts_sent      INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'pending', -- pending | sent | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      REAL NOT NULL,
    sent_at         REAL,
    UNIQUE (kind, chat_id, key)
);
CREATE INDEX notices_due ON notices (state, next_attempt_at);

-- A match for a chat in digest mode waits here instead of in the outbox, until
-- the digest that lists it is written (notice_id set in the same transaction).
CREATE TABLE digest_items (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    match_id    INTEGER NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    notice_id   INTEGER REFERENCES notices (id) ON DELETE CASCADE,
    created_at  REAL NOT NULL,
    UNIQUE (chat_id, match_id)
);
CREATE INDEX digest_items_waiting ON digest_items (chat_id) WHERE notice_id IS NULL;
