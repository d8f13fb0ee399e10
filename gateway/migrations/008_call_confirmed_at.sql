-- Voice calls: when the callee pressed 1, in milliseconds after the answer (NULL: no
-- confirmation). A 1 pressed during the message stops it at once and is stored at that moment,
-- before the thank-you is played, so progress pages count it without waiting for the hang-up.
-- Applied by gateway.storage.database inside one transaction; no BEGIN/COMMIT here.

ALTER TABLE voice_call ADD COLUMN confirmed_ms INTEGER CHECK (confirmed_ms IS NULL OR confirmed_ms >= 0);
