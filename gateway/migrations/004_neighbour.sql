-- Inbound routing and neighbour alerts (issue 7): opt-outs, the block list, automatic replies,
-- neighbour alerts with their recipients, and the residents' email choice.
-- Applied by gateway.storage.database inside one transaction; no BEGIN/COMMIT here.
-- Times are integer ms since the epoch, UTC.

-- Numbers that answered STOP (ARRET, …): no SMS alert and no neighbour alert reaches them
-- until they answer START. Keyed by number, not resident: the request came from the SIM.
CREATE TABLE sms_opt_out (
    number TEXT PRIMARY KEY CHECK (number GLOB '+[1-9]*'),
    inbound_id INTEGER REFERENCES inbound (id) ON DELETE SET NULL,
    at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Senders an admin blocked: their texts are kept but never relayed nor answered.
CREATE TABLE sender_block (
    number TEXT PRIMARY KEY,
    reason TEXT NOT NULL DEFAULT '',
    blocked_by TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Every automatic answer to an inbound SMS: decided in the routing transaction, then put in
-- the outbox (message_id) with an idempotency key, so a restart in between sends it once.
-- Counting rows per number bounds auto-reply loops between two gateways.
CREATE TABLE auto_reply (
    id INTEGER PRIMARY KEY,
    inbound_id INTEGER NOT NULL UNIQUE REFERENCES inbound (id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('stop', 'start', 'help', 'unknown')),
    body TEXT NOT NULL,
    language TEXT NOT NULL,
    message_id INTEGER,  -- NULL until enqueued
    at INTEGER NOT NULL
) STRICT;

CREATE INDEX auto_reply_number ON auto_reply (number, at);
CREATE INDEX auto_reply_pending ON auto_reply (id) WHERE message_id IS NULL;

-- A neighbour alert, from a resident's SMS (inbound_id) or from the web page.
--   pending  -> waiting for a moderator (neighbours.moderation)
--   relayed  -> recipients chosen and written below
--   rejected -> a moderator refused it
--   refused  -> a limit or the block list stopped it (reason says which)
CREATE TABLE neighbour_alert (
    id INTEGER PRIMARY KEY,
    inbound_id INTEGER UNIQUE REFERENCES inbound (id) ON DELETE SET NULL,
    resident_id INTEGER REFERENCES resident (id) ON DELETE SET NULL,
    zone_id INTEGER REFERENCES zone (id) ON DELETE SET NULL,
    source TEXT NOT NULL CHECK (source IN ('sms', 'web')),
    sender_number TEXT NOT NULL,  -- where it came from ('' for the web)
    sender_name TEXT NOT NULL,  -- the first name at the time, for the feed
    show_number TEXT NOT NULL DEFAULT '',  -- the number shown to neighbours, '' when hidden
    body TEXT NOT NULL,  -- as written, before prefix and cap
    state TEXT NOT NULL CHECK (state IN ('pending', 'relayed', 'rejected', 'refused')),
    reason TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    decided_at INTEGER
) STRICT;

CREATE INDEX neighbour_alert_zone ON neighbour_alert (zone_id, created_at);
CREATE INDEX neighbour_alert_resident ON neighbour_alert (resident_id, created_at);
CREATE INDEX neighbour_alert_sender ON neighbour_alert (sender_number, created_at);
CREATE INDEX neighbour_alert_pending ON neighbour_alert (id) WHERE state = 'pending';

-- Who an alert went to, by SMS (message_id once in the outbox) or by email (state below).
CREATE TABLE neighbour_recipient (
    alert_id INTEGER NOT NULL REFERENCES neighbour_alert (id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    destination TEXT NOT NULL,
    resident_id INTEGER REFERENCES resident (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    language TEXT NOT NULL,
    message_id INTEGER,  -- sms: NULL until enqueued
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (alert_id, channel, destination)
) STRICT, WITHOUT ROWID;

CREATE INDEX neighbour_recipient_pending ON neighbour_recipient (channel, state, message_id);

-- The resident's neighbour-alert choices that the resident table does not hold.
CREATE TABLE neighbour_preference (
    resident_id INTEGER PRIMARY KEY REFERENCES resident (id) ON DELETE CASCADE,
    email_alerts INTEGER NOT NULL DEFAULT 0 CHECK (email_alerts IN (0, 1))
) STRICT;
