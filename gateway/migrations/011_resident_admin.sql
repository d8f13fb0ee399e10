-- Staff management of residents (issue 6, reference data): deactivation, imports from another
-- system's CSV with their progress and report. Applied by gateway.storage.database inside one
-- transaction; no BEGIN/COMMIT here. Times are integer ms since the epoch, UTC.

-- A deactivated resident gets no alert (municipal or neighbour) and cannot sign in; their data
-- stays, so reactivating them restores everything as it was.
ALTER TABLE resident ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));

CREATE INDEX resident_names ON resident (last_name COLLATE NOCASE, first_name COLLATE NOCASE);

-- The resident page lists the messages and calls sent to a resident's numbers.
CREATE INDEX message_destination ON message (destination);

-- One CSV import of residents, run in the background: the page follows these counters.
CREATE TABLE resident_import (
    id INTEGER PRIMARY KEY,
    filename TEXT NOT NULL,
    admin TEXT NOT NULL DEFAULT '',  -- who started it (username, or 'cli')
    state TEXT NOT NULL DEFAULT 'running'
        CHECK (state IN ('running', 'done', 'failed', 'interrupted')),
    encoding TEXT NOT NULL DEFAULT '',
    delimiter TEXT NOT NULL DEFAULT '',
    total_rows INTEGER NOT NULL DEFAULT 0,
    processed INTEGER NOT NULL DEFAULT 0,  -- rows read so far (accepted + duplicates + rejected)
    accepted INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    started_at INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;

-- Every row an import did not take, with its line in the file and why.
CREATE TABLE resident_import_issue (
    import_id INTEGER NOT NULL REFERENCES resident_import (id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('rejected', 'duplicate')),
    reason TEXT NOT NULL,  -- a code, see gateway/residents/csv_rows.py
    detail TEXT NOT NULL DEFAULT '',  -- the column or value concerned
    PRIMARY KEY (import_id, line)
) STRICT, WITHOUT ROWID;
