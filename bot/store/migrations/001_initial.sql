-- The whole first schema. Times are UNIX seconds (REAL, UTC).

CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT NOT NULL UNIQUE,
    language             TEXT NOT NULL CHECK (language IN ('en', 'fr', 'ru')),
    name                 TEXT NOT NULL DEFAULT '',
    interval_s           REAL,                      -- NULL: [polling].interval
    origin               TEXT NOT NULL DEFAULT 'config',  -- config | chat
    etag                 TEXT,
    last_modified        TEXT,
    baseline_done        INTEGER NOT NULL DEFAULT 0, -- first successful poll recorded
    last_success_at      REAL,
    last_error           TEXT,
    last_error_at        REAL,
    failing_since        REAL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_poll_at         REAL NOT NULL DEFAULT 0,
    entries_seen         INTEGER NOT NULL DEFAULT 0,
    failure_reported     INTEGER NOT NULL DEFAULT 0, -- admins told it fails for 24 h
    created_at           REAL NOT NULL
);

CREATE TABLE entries (
    id             INTEGER PRIMARY KEY,
    feed_id        INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    alert_key      TEXT NOT NULL,  -- canonical link (else key): one item across feeds
    link           TEXT NOT NULL,
    title          TEXT NOT NULL,
    summary        TEXT NOT NULL,
    language       TEXT NOT NULL,
    published_at   REAL NOT NULL,
    first_seen_at  REAL NOT NULL,
    last_seen_at   REAL NOT NULL,
    UNIQUE (feed_id, key)
);
CREATE INDEX entries_alert_key ON entries (alert_key);
CREATE INDEX entries_last_seen ON entries (last_seen_at);

CREATE TABLE topics (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    origin      TEXT NOT NULL DEFAULT 'config',
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);

CREATE TABLE topic_queries (
    topic_id  INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    language  TEXT NOT NULL CHECK (language IN ('en', 'fr', 'ru')),
    query     TEXT NOT NULL,
    PRIMARY KEY (topic_id, language)
);

CREATE TABLE chats (
    id                 INTEGER PRIMARY KEY,  -- Telegram chat id
    type               TEXT NOT NULL,        -- private | group | supergroup | channel | console
    title              TEXT NOT NULL DEFAULT '',
    language           TEXT NOT NULL CHECK (language IN ('en', 'fr', 'ru')),
    active             INTEGER NOT NULL DEFAULT 1,
    deactivated_reason TEXT,
    created_at         REAL NOT NULL
);

CREATE TABLE subscriptions (
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    topic_id    INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    thread_id   INTEGER,                     -- forum topic the alerts go to
    created_at  REAL NOT NULL,
    PRIMARY KEY (chat_id, topic_id)
);
CREATE INDEX subscriptions_topic ON subscriptions (topic_id);

-- One row per (entry, topic): the unit that coverage stories, digests and
-- trend charts will aggregate.
CREATE TABLE matches (
    id          INTEGER PRIMARY KEY,
    entry_id    INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    topic_id    INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    terms       TEXT NOT NULL,               -- JSON list of matched query terms
    matched_at  REAL NOT NULL,
    UNIQUE (entry_id, topic_id)
);
CREATE INDEX matches_topic_time ON matches (topic_id, matched_at);

-- The alert ledger: written in the same transaction as its match, before any
-- send. UNIQUE makes "one alert per (item, topic, chat), ever" a constraint.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    match_id        INTEGER REFERENCES matches (id) ON DELETE SET NULL,
    alert_key       TEXT NOT NULL,
    topic_id        INTEGER NOT NULL,
    chat_id         INTEGER NOT NULL,
    thread_id       INTEGER,
    state           TEXT NOT NULL DEFAULT 'pending', -- pending | sending | sent | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    sent_at         REAL,
    message_id      INTEGER,
    last_error      TEXT,
    UNIQUE (alert_key, topic_id, chat_id)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);

CREATE TABLE translation_cache (
    provider     TEXT NOT NULL,
    source       TEXT NOT NULL,
    target       TEXT NOT NULL,
    text_hash    TEXT NOT NULL,   -- sha256 of the source text
    translation  TEXT NOT NULL,
    created_at   REAL NOT NULL,
    PRIMARY KEY (provider, source, target, text_hash)
);

-- Running counters for /stats (translation cache hits and misses, ...).
CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL DEFAULT 0
);
