-- The durable outbox: every outgoing message is a row here before any modem sees it.
-- Applied by gateway.storage.database inside one transaction; no BEGIN/COMMIT here.
-- Times are integer milliseconds since the Unix epoch, UTC.

-- Priority is data: lower numbers are claimed first; FIFO within one priority.
-- resend_after_unknown says what start-up recovery does with a row left in `sending`
-- (AT+CMGS may or may not have reached the network):
--   never        -> state `unknown`: a duplicate code or relay confuses more than it helps;
--                   the resident can ask again.
--   always       -> back to `queued`: a duplicate alert is better than a missed one.
--   unless_keyed -> resend, unless the API caller gave an idempotency key, which says it
--                   wants at most one copy; it then sees `unknown` and decides.
CREATE TABLE message_class (
    name TEXT PRIMARY KEY,
    priority INTEGER NOT NULL,
    resend_after_unknown TEXT NOT NULL
        CHECK (resend_after_unknown IN ('never', 'always', 'unless_keyed'))
) STRICT, WITHOUT ROWID;

INSERT INTO message_class (name, priority, resend_after_unknown) VALUES
    ('otp', 0, 'never'),
    ('relay', 1, 'never'),
    ('reply', 2, 'never'),
    ('alert', 3, 'always'),
    ('api', 4, 'unless_keyed');

-- The state machine as data: the trigger below refuses any other change of state, so no
-- code path can take a message out of a terminal state.
CREATE TABLE message_transition (
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    PRIMARY KEY (from_state, to_state)
) STRICT, WITHOUT ROWID;

INSERT INTO message_transition (from_state, to_state) VALUES
    ('queued', 'sending'),     -- claimed by a modem; committed before AT+CMGS
    ('queued', 'expired'),     -- valid_until passed while waiting
    ('queued', 'cancelled'),
    ('sending', 'sent'),       -- the network accepted every part (+CMGS)
    ('sending', 'delivered'),  -- voice: the call was answered and the message played
    ('sending', 'queued'),     -- retry later, released, or resent after a crash
    ('sending', 'failed'),
    ('sending', 'expired'),    -- a retry would fall after valid_until
    ('sending', 'unknown'),    -- outcome unknown and the class must not be resent
    ('sent', 'delivered'),     -- status reports for every part said delivered
    ('sent', 'failed');        -- a status report said a part failed for good

CREATE TABLE message (
    id INTEGER PRIMARY KEY,
    class TEXT NOT NULL REFERENCES message_class (name),
    priority INTEGER NOT NULL,  -- copied from message_class at enqueue, for the claim index
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'voice')),
    destination TEXT NOT NULL
        CHECK (destination GLOB '+[1-9]*' AND length(destination) BETWEEN 3 AND 16),
    body TEXT NOT NULL,
    language TEXT NOT NULL,
    campaign_id INTEGER,
    idempotency_key TEXT UNIQUE,
    valid_until INTEGER,  -- NULL: never expires
    -- Rows are inserted 'queued' (the default) and message_state_guard admits only the
    -- states in message_transition afterwards. No CHECK (state IN ...): it cost ~7 µs a
    -- row, a third of a 100,000-recipient fan-out.
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    modem TEXT,  -- the modem of the latest attempt
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    finished_at INTEGER  -- when it reached a terminal state
) STRICT;

-- claim_next walks this per (channel, priority): only queued rows, so it stays small.
CREATE INDEX message_claim ON message (channel, priority, next_attempt_at, id)
    WHERE state = 'queued';
-- The expiry sweep run before every claim.
CREATE INDEX message_expiry ON message (valid_until)
    WHERE state = 'queued' AND valid_until IS NOT NULL;
-- Campaign cancel and counters.
CREATE INDEX message_campaign ON message (campaign_id, state)
    WHERE campaign_id IS NOT NULL;
-- UI counters and start-up recovery.
CREATE INDEX message_state ON message (state, class);

CREATE TRIGGER message_state_guard
BEFORE UPDATE OF state ON message
WHEN NEW.state <> OLD.state AND NOT EXISTS (
    SELECT 1 FROM message_transition WHERE from_state = OLD.state AND to_state = NEW.state
)
BEGIN
    SELECT RAISE(ABORT, 'message state transition not allowed');
END;

-- attempts counts claims. The one way down is Outbox.unclaim: a claim given back before its
-- AT+CMGS was written (a prefetch preempted by an OTP, a modem fault), by exactly one, as
-- the row goes back from sending to queued.
CREATE TRIGGER message_attempts_guard
BEFORE UPDATE OF attempts ON message
WHEN NEW.attempts < OLD.attempts AND NOT (
    NEW.attempts = OLD.attempts - 1 AND OLD.state = 'sending' AND NEW.state = 'queued'
)
BEGIN
    SELECT RAISE(ABORT, 'message attempts never decrease');
END;

-- One row per SMS part the network accepted, keyed for status-report matching.
CREATE TABLE message_part (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    part_no INTEGER NOT NULL CHECK (part_no >= 1),
    modem TEXT NOT NULL,
    mr INTEGER NOT NULL CHECK (mr BETWEEN 0 AND 255),  -- TP-MR, wraps modulo 256
    state TEXT NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'delivered', 'failed')),
    status INTEGER,  -- the latest TP-ST received for this part
    sent_at INTEGER NOT NULL,
    reported_at INTEGER,
    UNIQUE (message_id, attempt, part_no)
) STRICT;

CREATE INDEX message_part_mr ON message_part (modem, mr, sent_at);

-- Every status report, kept before the modem deletes it; part_id stays NULL until a part
-- matches (a report can beat mark_sent when the network is fast).
CREATE TABLE status_report (
    id INTEGER PRIMARY KEY,
    modem TEXT NOT NULL,
    mr INTEGER NOT NULL CHECK (mr BETWEEN 0 AND 255),
    status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 255),
    recipient TEXT,
    received_at INTEGER NOT NULL,
    part_id INTEGER REFERENCES message_part (id) ON DELETE SET NULL
) STRICT;

CREATE INDEX status_report_unmatched ON status_report (modem, mr, received_at)
    WHERE part_id IS NULL;
