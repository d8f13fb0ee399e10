-- Voice calls (issue 5): one row per call placed for an outbox message on Channel.VOICE.
-- Applied by gateway.storage.database inside one transaction; no BEGIN/COMMIT here.
-- Times are integer milliseconds since the Unix epoch, UTC.
-- The outbox row says where the message is (delivered, queued for a retry, failed); these rows
-- say what each attempt's call did, and the retry policy counts them per outcome.

CREATE TABLE voice_call (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,  -- message.attempts of the claim that placed it
    modem TEXT NOT NULL,
    -- confirmed: answered, played, 1 pressed; no_confirmation: answered and played, no 1;
    -- hung_up: answered, but the line dropped before the message was heard once in full.
    outcome TEXT NOT NULL CHECK (outcome IN (
        'confirmed', 'no_confirmation', 'hung_up', 'busy', 'no_answer', 'failed'
    )),
    answered INTEGER NOT NULL CHECK (answered IN (0, 1)),
    plays INTEGER NOT NULL DEFAULT 0 CHECK (plays >= 0),  -- times heard in full
    keys TEXT NOT NULL DEFAULT '',  -- DTMF keys pressed, in order
    end_reason TEXT,  -- modem.voice.EndReason
    duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),  -- answer to end
    error TEXT,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    UNIQUE (message_id, attempt)
) STRICT;

CREATE INDEX voice_call_recent ON voice_call (ended_at);
