-- OTP voice fallback (issue 5): a code sent by SMS may also have a voice message with the same
-- code, queued with not_before = sent + residents.voice_fallback_s. Its outbox id is kept with
-- the code so that using, replacing or killing the code cancels the call while still queued.
-- Applied by gateway.storage.database inside one transaction; no BEGIN/COMMIT here.

ALTER TABLE otp_code ADD COLUMN fallback_id INTEGER;  -- message.id of the call; NULL: none
