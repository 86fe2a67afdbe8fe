-- The queue table no longer uses AUTOINCREMENT: it updated the
-- sqlite_sequence row with every notification, a B-tree write and one more
-- page in every durable commit. Ids still grow; one can come back only
-- after the newest notification of all was pruned with its alert, and
-- nothing refers to a pruned notification. The table is rebuilt (SQLite
-- cannot drop AUTOINCREMENT in place); its rows, ids and indexes are kept.
CREATE TABLE notifications_0006 (
	id              INTEGER PRIMARY KEY,
	idempotency_key TEXT NOT NULL,
	alert_id        TEXT NOT NULL,
	fingerprint     TEXT NOT NULL,
	sequence        INTEGER NOT NULL DEFAULT 0,
	channel         TEXT NOT NULL,
	event           TEXT NOT NULL DEFAULT '',
	priority        INTEGER NOT NULL DEFAULT 0,
	payload         BLOB,
	group_key       TEXT NOT NULL DEFAULT '',
	failover        TEXT NOT NULL DEFAULT '[]',
	state           TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	locked_until    INTEGER NOT NULL DEFAULT 0,
	locked_by       TEXT NOT NULL DEFAULT '',
	last_error      TEXT NOT NULL DEFAULT '',
	failed_over_to  TEXT NOT NULL DEFAULT '',
	updated_at      INTEGER NOT NULL,
	sent_at         INTEGER NOT NULL DEFAULT 0,
	sent_attempt    INTEGER NOT NULL DEFAULT 0,
	sent_status     INTEGER NOT NULL DEFAULT 0,
	sent_latency    INTEGER NOT NULL DEFAULT 0,
	sent_detail     TEXT NOT NULL DEFAULT ''
);
INSERT INTO notifications_0006 (id, idempotency_key, alert_id, fingerprint, sequence, channel, event, priority,
	payload, group_key, failover, state, attempts, created_at, next_attempt_at, locked_until, locked_by,
	last_error, failed_over_to, updated_at, sent_at, sent_attempt, sent_status, sent_latency, sent_detail)
SELECT id, idempotency_key, alert_id, fingerprint, sequence, channel, event, priority,
	payload, group_key, failover, state, attempts, created_at, next_attempt_at, locked_until, locked_by,
	last_error, failed_over_to, updated_at, sent_at, sent_attempt, sent_status, sent_latency, sent_detail
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_0006 RENAME TO notifications;
CREATE INDEX notifications_queued ON notifications (channel, next_attempt_at, locked_until, priority)
	WHERE state = 'queued';
CREATE INDEX notifications_alert ON notifications (alert_id);
DELETE FROM sqlite_sequence WHERE name = 'notifications';
