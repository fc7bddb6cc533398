-- When a poll last found an entry the feed had not shown before: a feed that
-- answers but publishes nothing new for health.stale_after is reported once as
-- stale (stale_reported), again only after it publishes and goes quiet anew.
ALTER TABLE feeds ADD COLUMN last_new_at REAL;
ALTER TABLE feeds ADD COLUMN stale_reported INTEGER NOT NULL DEFAULT 0;
-- Since when the reported failure lasted, for the recovery report to say.
ALTER TABLE feeds ADD COLUMN failure_reported_since REAL;
UPDATE feeds SET last_new_at = (SELECT MAX(e.first_seen_at) FROM entries e
                                WHERE e.feed_id = feeds.id);
UPDATE feeds SET failure_reported_since = failing_since WHERE failure_reported = 1;

-- Reports carry since when and the last success, and may say a feed is stale;
-- the state's CHECK changes, so the table is rebuilt with its rows.
CREATE TABLE health_reports_017 (
    id               INTEGER PRIMARY KEY,
    feed_id          INTEGER,                 -- no foreign key: the report outlives a deleted feed
    feed_name        TEXT NOT NULL,
    feed_url         TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('failing', 'recovered', 'stale')),
    error            TEXT,
    since            REAL,                    -- failing since, or nothing new since (stale)
    last_success_at  REAL,
    told             TEXT NOT NULL DEFAULT '[]',  -- JSON list of the admins who have it
    created_at       REAL NOT NULL,
    done_at          REAL
);
INSERT INTO health_reports_017 (id, feed_id, feed_name, feed_url, state, error, told,
                                created_at, done_at)
    SELECT id, feed_id, feed_name, feed_url, state, error, told, created_at, done_at
    FROM health_reports;
DROP TABLE health_reports;
ALTER TABLE health_reports_017 RENAME TO health_reports;
CREATE INDEX health_reports_waiting ON health_reports (id) WHERE done_at IS NULL;
