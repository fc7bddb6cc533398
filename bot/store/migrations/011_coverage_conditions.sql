-- /coverage grow|each [outlets N] [languages N]: a story reaches the chat only once
-- it has entries from at least that many outlets and languages (1: its first entry).
ALTER TABLE chats ADD COLUMN story_outlets INTEGER NOT NULL DEFAULT 1
    CHECK (story_outlets >= 1);
ALTER TABLE chats ADD COLUMN story_languages INTEGER NOT NULL DEFAULT 1
    CHECK (story_languages >= 1);
