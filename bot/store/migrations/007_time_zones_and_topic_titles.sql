-- A chat's IANA time zone for the times it is shown; NULL: bot.default_timezone.
ALTER TABLE chats ADD COLUMN timezone TEXT;

-- A topic's title per language, as shown to chats reading in that language;
-- topics.title stays the title as first written (the fallback).
CREATE TABLE topic_titles (
    topic_id  INTEGER NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    language  TEXT NOT NULL CHECK (language IN ('en', 'fr', 'ru')),
    title     TEXT NOT NULL,
    PRIMARY KEY (topic_id, language)
);
