-- The highest event number a session may have used, so that a session registered again after its
-- live state was lost numbers its events after the ones viewers have seen.
ALTER TABLE relay_sessions ADD COLUMN seq_reserved BIGINT NOT NULL DEFAULT 0;

-- Per-user attachment totals (the stored-bytes quota).
CREATE INDEX attachments_user_expires ON attachments (user_id, expires_at);
