-- One WebSub subscription per feed whose document or headers name a hub.
-- state: requested (asked, awaiting the hub's challenge), active (verified),
-- unsubscribing (the feed was deleted; kept until the hub confirms or we give up).
CREATE TABLE websub_subscriptions (
    feed_id INTEGER PRIMARY KEY,
    hub TEXT NOT NULL,
    topic TEXT NOT NULL,
    secret TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,        -- the callback's last path segment
    state TEXT NOT NULL DEFAULT 'requested',
    requested_at REAL NOT NULL,
    verified_at REAL,
    lease_seconds REAL,
    renew_at REAL,                     -- when to ask the hub again
    last_push_at REAL,
    last_error TEXT
);
CREATE INDEX websub_subscriptions_renew ON websub_subscriptions (renew_at);

-- The interval a feed's last poll chose (adaptive polling), shown by /feeds.
ALTER TABLE feeds ADD COLUMN poll_interval_s REAL;
-- A feed's last entries by publication time: what its interval is computed from.
CREATE INDEX IF NOT EXISTS entries_feed_published ON entries (feed_id, published_at);
