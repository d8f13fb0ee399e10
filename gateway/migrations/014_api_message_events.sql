-- message.status webhooks that survive a stop (issue 6). The state change of an API message
-- and the record that it happened commit together: the trigger below writes one row per
-- reported state in the outbox's own transaction, and the webhook dispatcher turns rows into
-- deliveries behind the 'message' cursor of webhook_cursor (as it does inbound SMS), deleting
-- each row with the transaction that queues its delivery. A stop between the two loses
-- nothing: the rows wait for the next start. Applied inside one transaction; times: ms, UTC.

-- AUTOINCREMENT: rows behind the cursor are deleted, and a reused id would hide behind it.
CREATE TABLE api_message_event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    at INTEGER NOT NULL
) STRICT;

-- The retention purge deletes messages; this keeps its cascade an index lookup.
CREATE INDEX api_message_event_message ON api_message_event (message_id);

-- API messages only: for every other class the WHEN clause is one comparison, and the
-- dispatch hot path (alerts, codes) writes nothing more.
CREATE TRIGGER api_message_event_log
AFTER UPDATE OF state ON message
WHEN NEW.class = 'api' AND NEW.state <> OLD.state
    AND NEW.state IN ('sent', 'delivered', 'failed', 'expired', 'cancelled', 'unknown')
BEGIN
    INSERT INTO api_message_event (message_id, state, at)
    VALUES (NEW.id, NEW.state, NEW.updated_at);
END;
