-- Every foreign key with an ON DELETE action has an index on its column: deleting
-- a parent (a pruned match, a notice) then finds its children by index instead of
-- scanning the child table once per deleted row.
CREATE INDEX IF NOT EXISTS outbox_match ON outbox (match_id);
CREATE INDEX IF NOT EXISTS digest_items_match ON digest_items (match_id);
CREATE INDEX IF NOT EXISTS digest_items_notice ON digest_items (notice_id);
CREATE INDEX IF NOT EXISTS notices_chat ON notices (chat_id);

-- Queries run once per matched entry or per send.
-- The story a replied-to message belongs to (/story as a reply).
CREATE INDEX IF NOT EXISTS outbox_message ON outbox (chat_id, message_id)
    WHERE message_id IS NOT NULL;
-- (Also a chat's story messages, moved when the chat migrates to a supergroup.)
CREATE INDEX IF NOT EXISTS story_messages_message ON story_messages (chat_id, message_id);
-- A story's rows, e.g. its dead sends, forgotten when the story grows.
CREATE INDEX IF NOT EXISTS outbox_story ON outbox (story_id, state) WHERE story_id IS NOT NULL;

-- Pruning keeps the entries a feed still lists: its latest last_seen_at, per feed.
CREATE INDEX IF NOT EXISTS entries_feed_seen ON entries (feed_id, last_seen_at);
-- Forgetting old translations, by age.
CREATE INDEX IF NOT EXISTS translation_cache_created ON translation_cache (created_at);
-- Surges count a topic's entries by publication time (and backtests search by it).
CREATE INDEX IF NOT EXISTS entries_published ON entries (published_at);
