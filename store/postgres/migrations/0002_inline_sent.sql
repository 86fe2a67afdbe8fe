-- A successful attempt is recorded in its notification row instead of a
-- deliveries row; the delivery log lists both. sent_at = 0: no inline entry.
ALTER TABLE notifications ADD COLUMN sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN sent_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN sent_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN sent_latency BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN sent_detail TEXT NOT NULL DEFAULT '';
