-- One outbox for every message the bot sends on its own: alerts, story edits and
-- replies (as before), digest parts and surge alerts (written with their notice),
-- health reports and the bot's own notices. SQLite cannot change a CHECK in place:
-- the table is rebuilt with the new kinds and columns, its rows and ids kept.
CREATE TABLE outbox_new (
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
    kind            TEXT NOT NULL DEFAULT 'send'
        CHECK (kind IN ('send', 'edit', 'reply', 'digest', 'surge', 'health', 'notice')),
    story_id        INTEGER,
    entry_id        INTEGER,   -- edit, reply: the entry that caused it
    body            TEXT,      -- digest, surge, health: the HTML decided with the row
    notice          TEXT,      -- notice: catalog key and values (JSON), drawn when sent
    silent          INTEGER NOT NULL DEFAULT 0,  -- 1: arrives without a notification sound
    unsure          INTEGER NOT NULL DEFAULT 0,  -- 1: a send timed out and may have arrived
    UNIQUE (alert_key, topic_id, chat_id)
);
INSERT INTO outbox_new (id, match_id, alert_key, topic_id, chat_id, thread_id, state, attempts,
                        next_attempt_at, created_at, sent_at, message_id, last_error, kind,
                        story_id, entry_id)
SELECT id, match_id, alert_key, topic_id, chat_id, thread_id, state, attempts,
       next_attempt_at, created_at, sent_at, message_id, last_error, kind, story_id, entry_id
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

-- A chat's queue, and the chats that have one, read from this partial index alone:
-- claiming costs what is claimed, however long one chat's backlog.
CREATE INDEX outbox_queue ON outbox (chat_id, id) WHERE state = 'pending';
CREATE INDEX outbox_chat ON outbox (chat_id, state, id);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS outbox_match ON outbox (match_id);
CREATE UNIQUE INDEX outbox_send_once ON outbox (alert_key, chat_id) WHERE kind = 'send';
CREATE UNIQUE INDEX outbox_reply_once ON outbox (alert_key, chat_id) WHERE kind = 'reply';
CREATE INDEX outbox_story_edits ON outbox (story_id, chat_id) WHERE kind = 'edit';
-- As 014_indexes.sql has them: a database that had 014 before this rebuild keeps them.
CREATE INDEX IF NOT EXISTS outbox_message ON outbox (chat_id, message_id)
    WHERE message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_story ON outbox (story_id, state) WHERE story_id IS NOT NULL;

-- Digests and surge alerts waiting in the notice ledger move to the outbox, one row
-- per part not yet sent; the notice stays as the once-per-period record.
INSERT INTO outbox (alert_key, topic_id, chat_id, state, next_attempt_at, created_at, kind,
                    body)
SELECT 'notice:' || n.id || ':' || p.key, 0, n.chat_id, 'pending', n.next_attempt_at,
       n.created_at, n.kind, p.value
FROM notices n, json_each(n.parts) p
WHERE n.state = 'pending' AND p.key >= n.parts_sent
ORDER BY n.id, p.key;
UPDATE notices SET state = 'queued' WHERE state = 'pending';
