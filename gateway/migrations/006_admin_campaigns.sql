-- Admin accounts, their sessions and audit log; municipal alerts (campaigns) and who each one
-- was addressed to (issue 6). Applied by gateway.storage.database inside one transaction; no
-- BEGIN/COMMIT here. Times are integer ms since the epoch, UTC.

-- Town staff. No default account: `tocsin admin create` makes the first one.
CREATE TABLE admin (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,  -- argon2id, PHC string
    -- admin: everything; operator: composes and sends alerts; viewer: reads.
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    totp_secret TEXT,  -- reserved for the optional second factor (not used yet)
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at INTEGER NOT NULL,
    last_login_at INTEGER
) STRICT;

-- Staff browser sessions, apart from residents' (a resident cookie never opens /admin).
CREATE TABLE admin_session (
    token_hash TEXT PRIMARY KEY,  -- SHA-256 of the cookie value
    admin_id INTEGER REFERENCES admin (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX admin_session_seen ON admin_session (last_seen_at);

-- Every sign-in (failed ones too) and every action, never updated or deleted by the app.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    admin_id INTEGER REFERENCES admin (id) ON DELETE SET NULL,
    username TEXT NOT NULL,  -- as typed: a failed sign-in has no admin_id
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    client TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at);

-- A municipal alert. Its messages are outbox rows with message.campaign_id = campaign.id.
-- Pausing cancels what is still queued; resuming queues those recipients again (new rows,
-- generation + 1 in the idempotency key), so the latest row per recipient is its truth.
CREATE TABLE campaign (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body_fr TEXT NOT NULL,
    body_en TEXT NOT NULL,
    channels TEXT NOT NULL CHECK (channels IN ('sms', 'voice', 'both')),
    severity TEXT NOT NULL CHECK (severity IN ('emergency', 'information')),
    target TEXT NOT NULL,  -- JSON, see gateway/campaigns/targeting.py
    state TEXT NOT NULL DEFAULT 'sending'
        CHECK (state IN ('sending', 'paused', 'cancelled', 'done')),
    generation INTEGER NOT NULL DEFAULT 0,  -- resumes so far
    fanned_out INTEGER NOT NULL DEFAULT 0 CHECK (fanned_out IN (0, 1)),
    consent_override INTEGER NOT NULL DEFAULT 0 CHECK (consent_override IN (0, 1)),
    residents INTEGER NOT NULL DEFAULT 0,  -- residents reached
    sms_parts INTEGER NOT NULL DEFAULT 0,  -- SMS parts at the start, for the ETA
    eta_s REAL,  -- the ETA shown when it was sent (NULL: unknown), kept for the report
    created_by INTEGER REFERENCES admin (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;

-- Who a campaign was addressed to: one row per (channel, number) after deduplication, with
-- the residents behind that number as they were when it was sent (the report shows them).
CREATE TABLE campaign_recipient (
    campaign_id INTEGER NOT NULL REFERENCES campaign (id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'voice')),
    number TEXT NOT NULL,
    language TEXT NOT NULL,
    residents TEXT NOT NULL,  -- display names, "; "-separated
    PRIMARY KEY (campaign_id, channel, number)
) STRICT, WITHOUT ROWID;
