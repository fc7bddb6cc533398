-- A new entry waits for matching in the same transaction that stores it, and
-- stops waiting in the one that stores its matches and outbox rows: a crash in
-- between leaves it flagged, and the next start matches it.
ALTER TABLE entries ADD COLUMN pending_match INTEGER NOT NULL DEFAULT 0;
CREATE INDEX entries_pending_match ON entries (id) WHERE pending_match = 1;
