-- Residents and neighbour alerts, the remaining pieces of issues 4 and 7: sign-in throttling,
-- spent captcha solutions, refusal notices for neighbour alerts and verified email addresses.
-- Applied by gateway.storage.database inside one transaction; no BEGIN/COMMIT here.
-- Times are integer ms since the epoch, UTC.

-- Failed sign-ins, keyed like send_event by an HMAC of the number or of the client address
-- (kind says which), so the table never names a number and survives account deletion harmlessly.
CREATE TABLE signin_failure (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('number', 'client')),
    key TEXT NOT NULL,
    at INTEGER NOT NULL
) STRICT;

CREATE INDEX signin_failure_key ON signin_failure (kind, key, at);
CREATE INDEX signin_failure_at ON signin_failure (at);

-- ALTCHA solutions already used (SHA-256 of the challenge signature): a solved challenge is
-- accepted once, also across restarts, until it expires and is purged.
CREATE TABLE captcha_spent (
    signature_hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX captcha_spent_expiry ON captcha_spent (expires_at);

-- The SMS telling a resident their neighbour alert was refused or rejected: decided with the
-- alert (or the moderator's answer), then put in the outbox by the relay's flush, once.
CREATE TABLE neighbour_notice (
    alert_id INTEGER PRIMARY KEY REFERENCES neighbour_alert (id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    body TEXT NOT NULL,
    language TEXT NOT NULL,
    message_id INTEGER,  -- NULL until enqueued
    at INTEGER NOT NULL
) STRICT;

CREATE INDEX neighbour_notice_number ON neighbour_notice (number, at);
CREATE INDEX neighbour_notice_pending ON neighbour_notice (alert_id) WHERE message_id IS NULL;

-- Email copies go only to an address the resident proved by a link sent to it. `verified_email`
-- is the address as proved: changing the profile's email makes it differ, so copies stop
-- until the new one is proved. The link's token is stored as a SHA-256, never in clear.
ALTER TABLE neighbour_preference ADD COLUMN verified_email TEXT NOT NULL DEFAULT '';
ALTER TABLE neighbour_preference ADD COLUMN pending_email TEXT NOT NULL DEFAULT '';
ALTER TABLE neighbour_preference ADD COLUMN token_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE neighbour_preference ADD COLUMN token_expires_at INTEGER NOT NULL DEFAULT 0;

-- A post by town staff (gateway/inbound/town.py): never refused by the limits, and not counted
-- toward the zone's hourly limit on residents' alerts (see the README).
ALTER TABLE neighbour_alert ADD COLUMN by_town INTEGER NOT NULL DEFAULT 0 CHECK (by_town IN (0, 1));
