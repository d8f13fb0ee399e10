-- The HTTP API for other municipal systems (issue 6): bearer tokens, the alerts they created
-- (with the caller's idempotency key), and webhook deliveries waiting or done. Applied by
-- gateway.storage.database inside one transaction; no BEGIN/COMMIT here. Times: ms, UTC.

-- A token is shown once when made; only its SHA-256 is kept (it has 256 random bits, so a
-- slow hash buys nothing), so a copy of the database does not hand out working tokens.
CREATE TABLE api_token (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- operator: sends SMS and alerts and reads; viewer: reads (the admin console's roles).
    role TEXT NOT NULL CHECK (role IN ('operator', 'viewer')),
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,  -- the first characters, to tell tokens apart in lists and logs
    created_by TEXT NOT NULL,  -- the admin's username, or "cli"
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
) STRICT;

-- Names are unique among live tokens; a revoked token's name can be reused.
CREATE UNIQUE INDEX api_token_live_name ON api_token (name COLLATE NOCASE)
    WHERE revoked_at IS NULL;

-- Alerts created through the API: who made them, and the Idempotency-Key of the request, so
-- a retried POST returns the first alert instead of alerting the town twice. Written in the
-- same transaction as the campaign row. NULL keys are distinct: unkeyed requests never clash.
CREATE TABLE api_campaign (
    campaign_id INTEGER PRIMARY KEY REFERENCES campaign (id) ON DELETE CASCADE,
    token_id INTEGER NOT NULL REFERENCES api_token (id),
    idempotency_key TEXT,
    fingerprint TEXT NOT NULL,  -- SHA-256 of the request body: a key reused for another body is refused
    UNIQUE (token_id, idempotency_key)
) STRICT;

-- One row per (receiver URL, event): signed JSON POSTs, retried with exponential backoff
-- until delivered or out of attempts, across restarts. The body is stored as sent, so every
-- attempt signs the same bytes; event_id lets receivers drop a delivery they already have.
CREATE TABLE webhook_delivery (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    event TEXT NOT NULL,  -- sms.received | message.status
    event_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,  -- the receiver's HTTP status of the latest attempt
    last_error TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    UNIQUE (url, event_id)
) STRICT;

CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at)
    WHERE state = 'pending';

-- How far the webhooks have turned inbound SMS into deliveries, so the ones that arrived
-- while the gateway stopped between storing an SMS and queueing its webhook are caught up at
-- the next start. Set to the newest inbound id the first time webhooks run (no back-fill).
CREATE TABLE webhook_cursor (
    name TEXT PRIMARY KEY,  -- "inbound"
    last_id INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
