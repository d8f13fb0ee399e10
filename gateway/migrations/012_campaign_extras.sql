-- Issue 6, the rest of the admin console: the staff second factor (TOTP), alerts scheduled for
-- later, and named alert templates. Applied by gateway.storage.database inside one
-- transaction; no BEGIN/COMMIT here. Times are integer ms since the epoch, UTC.

-- TOTP (RFC 6238). admin.totp_secret (reserved in 006) holds the base32 secret from the
-- start of an enrolment; the factor is on only once a first code confirmed it.
ALTER TABLE admin ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0
    CHECK (totp_enabled IN (0, 1));
-- The last 30-second step a code was accepted for: a code is never accepted twice.
ALTER TABLE admin ADD COLUMN totp_last_step INTEGER;
-- Wrong codes in a row; at the limit the account takes no code until totp_locked_until.
ALTER TABLE admin ADD COLUMN totp_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE admin ADD COLUMN totp_locked_until INTEGER;

-- An alert to send later. It holds the draft and the target, not the recipients: they are
-- chosen when it starts, from the residents of that moment. Starting it inserts the campaign
-- and sets state = 'started' in one transaction, so a restart never starts it twice.
CREATE TABLE scheduled_alert (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body_fr TEXT NOT NULL,
    body_en TEXT NOT NULL,
    channels TEXT NOT NULL CHECK (channels IN ('sms', 'voice', 'both')),
    severity TEXT NOT NULL CHECK (severity IN ('emergency', 'information')),
    target TEXT NOT NULL,  -- JSON, see gateway/campaigns/targeting.py
    send_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'started', 'cancelled', 'failed')),
    campaign_id INTEGER REFERENCES campaign (id) ON DELETE SET NULL,
    error TEXT,  -- why it could not start (state 'failed')
    created_by INTEGER REFERENCES admin (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX scheduled_alert_due ON scheduled_alert (send_at) WHERE state = 'waiting';

-- A named draft staff reuse (no target: who is affected changes every time).
CREATE TABLE alert_template (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    title TEXT NOT NULL,
    body_fr TEXT NOT NULL,
    body_en TEXT NOT NULL,
    channels TEXT NOT NULL CHECK (channels IN ('sms', 'voice', 'both')),
    severity TEXT NOT NULL CHECK (severity IN ('emergency', 'information')),
    updated_by INTEGER REFERENCES admin (id) ON DELETE SET NULL,
    updated_at INTEGER NOT NULL
) STRICT;
