-- Coverage stories: matched entries grouped by event, and the one message per
-- (story, chat) that later entries edit. Pruned with their entries.

CREATE TABLE stories (
    id              INTEGER PRIMARY KEY,
    started_at      REAL NOT NULL,
    last_joined_at  REAL NOT NULL   -- when its latest entry joined: the window counts from it
);
CREATE INDEX stories_open ON stories (last_joined_at);

-- An entry belongs to at most one story; its signature (JSON) is what later
-- entries are compared with, so a restart rebuilds the open stories from here.
CREATE TABLE story_entries (
    entry_id   INTEGER PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
    story_id   INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    joined_at  REAL NOT NULL,
    signature  TEXT NOT NULL
);
CREATE INDEX story_entries_story ON story_entries (story_id, joined_at);

-- The message a chat got for a story (coverage grow): the outbox row that
-- sends it, then its Telegram message id, which edits and replies target.
CREATE TABLE story_messages (
    story_id    INTEGER NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    entry_id    INTEGER NOT NULL,     -- the entry the message shows
    outbox_id   INTEGER,
    message_id  INTEGER,              -- NULL until sent
    editable    INTEGER NOT NULL DEFAULT 1,  -- 0 once an edit failed for good: replies instead
    PRIMARY KEY (story_id, chat_id)
);
CREATE INDEX story_messages_outbox ON story_messages (outbox_id);

-- How later coverage of a story reaches a chat: grow (edit one message) | each.
ALTER TABLE chats ADD COLUMN coverage TEXT NOT NULL DEFAULT 'grow'
    CHECK (coverage IN ('grow', 'each'));

-- The outbox carries three kinds of work: a message of its own (send), a redraw
-- of a chat's story message (edit) and a short reply to it (reply).
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'send'
    CHECK (kind IN ('send', 'edit', 'reply'));
ALTER TABLE outbox ADD COLUMN story_id INTEGER;
ALTER TABLE outbox ADD COLUMN entry_id INTEGER;  -- edit, reply: the entry that caused it

-- One message per (item, chat), however many of the chat's topics it matched:
-- rows queued per topic before stories existed keep their first.
DELETE FROM outbox WHERE kind = 'send' AND id NOT IN (
    SELECT MIN(id) FROM outbox WHERE kind = 'send' GROUP BY alert_key, chat_id);
CREATE UNIQUE INDEX outbox_send_once ON outbox (alert_key, chat_id) WHERE kind = 'send';
CREATE UNIQUE INDEX outbox_reply_once ON outbox (alert_key, chat_id) WHERE kind = 'reply';
CREATE INDEX outbox_story_edits ON outbox (story_id, chat_id) WHERE kind = 'edit';
