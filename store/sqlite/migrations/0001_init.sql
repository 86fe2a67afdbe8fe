-- Times are unix nanoseconds (UTC); 0 in a NOT NULL column means "unset".
CREATE TABLE alerts (
	id               TEXT PRIMARY KEY,
	fingerprint      TEXT NOT NULL,
	rule_id          TEXT NOT NULL DEFAULT '',
	rule_name        TEXT NOT NULL DEFAULT '',
	state            TEXT NOT NULL,
	severity         INTEGER NOT NULL DEFAULT 0,
	summary          TEXT NOT NULL DEFAULT '',
	description      TEXT NOT NULL DEFAULT '',
	labels           TEXT NOT NULL DEFAULT '{}',
	annotations      TEXT NOT NULL DEFAULT '{}',
	value            REAL NOT NULL DEFAULT 0,
	threshold        REAL,
	source           TEXT NOT NULL DEFAULT '',
	metadata         TEXT NOT NULL DEFAULT '{}',
	started_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	active_at        INTEGER,
	acknowledged_at  INTEGER,
	acknowledged_by  TEXT NOT NULL DEFAULT '',
	ack_comment      TEXT NOT NULL DEFAULT '',
	resolved_at      INTEGER,
	ends_at          INTEGER,
	silenced_by      TEXT NOT NULL DEFAULT '',
	last_notified_at INTEGER,
	channels         TEXT NOT NULL DEFAULT '[]',
	escalation_level INTEGER NOT NULL DEFAULT 0,
	sequence         INTEGER NOT NULL DEFAULT 0
);
-- At most one open alert per fingerprint.
CREATE UNIQUE INDEX alerts_open_fingerprint ON alerts (fingerprint) WHERE state <> 'resolved';
CREATE INDEX alerts_fingerprint_started ON alerts (fingerprint, started_at);
CREATE INDEX alerts_state_started ON alerts (state, started_at);
CREATE INDEX alerts_started ON alerts (started_at);

CREATE TABLE transitions (
	alert_id    TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	sequence    INTEGER NOT NULL,
	fingerprint TEXT NOT NULL,
	from_state  TEXT NOT NULL DEFAULT '',
	to_state    TEXT NOT NULL,
	at          INTEGER NOT NULL,
	kind        TEXT NOT NULL DEFAULT '',
	by          TEXT NOT NULL DEFAULT '',
	comment     TEXT NOT NULL DEFAULT '',
	value       REAL NOT NULL DEFAULT 0,
	PRIMARY KEY (alert_id, sequence)
) WITHOUT ROWID;

CREATE TABLE silences (
	id         TEXT PRIMARY KEY,
	matchers   TEXT NOT NULL DEFAULT '[]',
	starts_at  INTEGER NOT NULL,
	ends_at    INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	comment    TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX silences_ends ON silences (ends_at);

-- The queue. No foreign key to alerts: queued rows outlive pruned alerts.
CREATE TABLE notifications (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
	updated_at      INTEGER NOT NULL
);
CREATE INDEX notifications_claim ON notifications (state, channel, next_attempt_at, priority);
CREATE INDEX notifications_alert ON notifications (alert_id, state);

CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	notification_id INTEGER NOT NULL DEFAULT 0,
	alert_id        TEXT NOT NULL DEFAULT '',
	fingerprint     TEXT NOT NULL DEFAULT '',
	channel         TEXT NOT NULL DEFAULT '',
	event           TEXT NOT NULL DEFAULT '',
	attempt         INTEGER NOT NULL DEFAULT 0,
	at              INTEGER NOT NULL,
	outcome         TEXT NOT NULL,
	reason          TEXT NOT NULL DEFAULT '',
	status_code     INTEGER NOT NULL DEFAULT 0,
	latency         INTEGER NOT NULL DEFAULT 0,
	error           TEXT NOT NULL DEFAULT '',
	detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_alert ON deliveries (alert_id, channel, at);
CREATE INDEX deliveries_fingerprint ON deliveries (fingerprint, at);

CREATE TABLE threads (
	alert_id TEXT NOT NULL,
	channel  TEXT NOT NULL,
	thread   TEXT NOT NULL,
	PRIMARY KEY (alert_id, channel)
) WITHOUT ROWID;
