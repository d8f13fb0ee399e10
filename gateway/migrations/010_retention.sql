-- Retention (issue 8): when a resident last signed in, so an abandoned account can be told
-- from one in use. NULL: never since this column exists (updated_at stands in).
ALTER TABLE resident ADD COLUMN last_login_at INTEGER;

CREATE INDEX inbound_received ON inbound (received_at);
CREATE INDEX neighbour_alert_created ON neighbour_alert (created_at);
CREATE INDEX message_finished ON message (finished_at) WHERE finished_at IS NOT NULL;
