-- Incoming SMS, committed before the modem deletes them from the SIM.
-- Applied by gateway.storage.database inside one transaction; no BEGIN/COMMIT here.
CREATE TABLE inbound (
    id INTEGER PRIMARY KEY,
    modem TEXT NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    network_timestamp INTEGER NOT NULL,  -- the SMSC's TP-SCTS, UTC milliseconds
    concat_ref INTEGER,  -- NULL for a single-part message
    parts_received INTEGER NOT NULL CHECK (parts_received >= 1),
    parts_expected INTEGER NOT NULL CHECK (parts_expected >= parts_received),
    pdu_hash TEXT NOT NULL,
    complete INTEGER NOT NULL CHECK (complete IN (0, 1)),
    processed_at INTEGER
) STRICT;

-- Duplicate suppression: the same PDUs read twice (a restart between commit and delete, or
-- an SMSC that resends after a lost acknowledgement) land on this index. NULLs are distinct
-- in a UNIQUE index, hence the coalesce.
CREATE UNIQUE INDEX inbound_dedup
    ON inbound (sender, network_timestamp, coalesce(concat_ref, -1), pdu_hash);

CREATE INDEX inbound_unprocessed ON inbound (id) WHERE processed_at IS NULL;
