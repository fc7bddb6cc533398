-- A feed's health change for the admins is written when it is seen, in the
-- transaction that marks the feed reported, and sent from here: a report that
-- cannot go now (429, network) waits; it is done once every admin has it.
CREATE TABLE health_reports (
    id          INTEGER PRIMARY KEY,
    feed_id     INTEGER,                 -- no foreign key: the report outlives a deleted feed
    feed_name   TEXT NOT NULL,
    feed_url    TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('failing', 'recovered')),
    error       TEXT,
    told        TEXT NOT NULL DEFAULT '[]',  -- JSON list of the admins who have it
    created_at  REAL NOT NULL,
    done_at     REAL
);
CREATE INDEX health_reports_waiting ON health_reports (id) WHERE done_at IS NULL;

-- Each config file entry as it was at the last start. An item whose entry is new
-- or changed takes the file's values; the others keep what admins changed in
-- chat, deletions included.
CREATE TABLE config_seeds (
    kind    TEXT NOT NULL CHECK (kind IN ('feed', 'topic')),
    name    TEXT NOT NULL,               -- a feed's URL, a topic's name
    digest  TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);
