-- Personal topics: a topic with an owner is listed, subscribable and editable only
-- in that user's private chat (whose chat id is the user id); NULL: shared by all.
ALTER TABLE topics ADD COLUMN owner_id INTEGER;
CREATE INDEX topics_owner ON topics (owner_id) WHERE owner_id IS NOT NULL;

-- A topic drafted by /addtopic's guided form, waiting for its author's confirmation
-- button; the button carries the draft's id, the draft carries the topic.
CREATE TABLE topic_drafts (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    owner_id    INTEGER,                 -- the topic's owner once created; NULL: shared
    topic       TEXT NOT NULL,           -- JSON: name, title, queries, titles
    created_at  REAL NOT NULL
);

-- A chat's quiet hours "HH:MM-HH:MM" in its time zone: messages sent then arrive
-- without a notification sound. NULL: none.
ALTER TABLE chats ADD COLUMN quiet TEXT;
