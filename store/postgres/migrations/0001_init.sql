-- Times are unix nanoseconds (UTC: timestamptz keeps only microseconds); 0 in a NOT NULL column means "unset".
CREATE TABLE alerts (
	id               TEXT PRIMARY KEY,
	fingerprint      TEXT NOT NULL,
	rule_id          TEXT NOT NULL DEFAULT '',
	rule_name        TEXT NOT NULL DEFAULT '',
	state            TEXT NOT NULL,
	severity         BIGINT NOT NULL DEFAULT 0,
	summary          TEXT NOT NULL DEFAULT '',
	description      TEXT NOT NULL DEFAULT '',
	labels           JSONB NOT NULL DEFAULT '{}',
	annotations      JSONB NOT NULL DEFAULT '{}',
	value            DOUBLE PRECISION NOT NULL DEFAULT 0,
	threshold        DOUBLE PRECISION,
	source           TEXT NOT NULL DEFAULT '',
	metadata         JSONB NOT NULL DEFAULT '{}',
	started_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	active_at        BIGINT,
	acknowledged_at  BIGINT,
	acknowledged_by  TEXT NOT NULL DEFAULT '',
	ack_comment      TEXT NOT NULL DEFAULT '',
	resolved_at      BIGINT,
	ends_at          BIGINT,
	silenced_by      TEXT NOT NULL DEFAULT '',
	last_notified_at BIGINT,
	channels         JSONB NOT NULL DEFAULT '[]',
	escalation_level BIGINT NOT NULL DEFAULT 0,
	sequence         BIGINT NOT NULL DEFAULT 0
);
-- At most one open alert per fingerprint.
CREATE UNIQUE INDEX alerts_open_fingerprint ON alerts (fingerprint) WHERE state <> 'resolved';
CREATE INDEX alerts_fingerprint_started ON alerts (fingerprint, started_at);
CREATE INDEX alerts_state_started ON alerts (state, started_at);
CREATE INDEX alerts_started ON alerts (started_at);

CREATE TABLE transitions (
	alert_id    TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	sequence    BIGINT NOT NULL,
	fingerprint TEXT NOT NULL,
	from_state  TEXT NOT NULL DEFAULT '',
	to_state    TEXT NOT NULL,
	at          BIGINT NOT NULL,
	kind        TEXT NOT NULL DEFAULT '',
	"by"          TEXT NOT NULL DEFAULT '',
	comment     TEXT NOT NULL DEFAULT '',
	value       DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (alert_id, sequence)
);

CREATE TABLE silences (
	id         TEXT PRIMARY KEY,
	matchers   JSONB NOT NULL DEFAULT '[]',
	starts_at  BIGINT NOT NULL,
	ends_at    BIGINT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	comment    TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX silences_ends ON silences (ends_at);

-- The queue. No foreign key to alerts: queued rows outlive pruned alerts.
CREATE TABLE notifications (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idempotency_key TEXT NOT NULL,
	alert_id        TEXT NOT NULL,
	fingerprint     TEXT NOT NULL,
	sequence        BIGINT NOT NULL DEFAULT 0,
	channel         TEXT NOT NULL,
	event           TEXT NOT NULL DEFAULT '',
	priority        BIGINT NOT NULL DEFAULT 0,
	payload         BYTEA,
	group_key       TEXT NOT NULL DEFAULT '',
	failover        JSONB NOT NULL DEFAULT '[]',
	state           TEXT NOT NULL,
	attempts        BIGINT NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	next_attempt_at BIGINT NOT NULL DEFAULT 0,
	locked_until    BIGINT NOT NULL DEFAULT 0,
	locked_by       TEXT NOT NULL DEFAULT '',
	last_error      TEXT NOT NULL DEFAULT '',
	failed_over_to  TEXT NOT NULL DEFAULT '',
	updated_at      BIGINT NOT NULL
);
CREATE INDEX notifications_claim ON notifications (state, channel, next_attempt_at, priority);
CREATE INDEX notifications_alert ON notifications (alert_id, state);
CREATE INDEX notifications_idempotency ON notifications (idempotency_key);

CREATE TABLE deliveries (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	notification_id BIGINT NOT NULL DEFAULT 0,
	alert_id        TEXT NOT NULL DEFAULT '',
	fingerprint     TEXT NOT NULL DEFAULT '',
	channel         TEXT NOT NULL DEFAULT '',
	event           TEXT NOT NULL DEFAULT '',
	attempt         BIGINT NOT NULL DEFAULT 0,
	at              BIGINT NOT NULL,
	outcome         TEXT NOT NULL,
	reason          TEXT NOT NULL DEFAULT '',
	status_code     BIGINT NOT NULL DEFAULT 0,
	latency         BIGINT NOT NULL DEFAULT 0,
	error           TEXT NOT NULL DEFAULT '',
	detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_alert ON deliveries (alert_id, channel, at);
CREATE INDEX deliveries_fingerprint ON deliveries (fingerprint, at);
CREATE INDEX deliveries_channel ON deliveries (channel, at);
CREATE INDEX deliveries_at ON deliveries (at);

CREATE TABLE threads (
	alert_id TEXT NOT NULL,
	channel  TEXT NOT NULL,
	thread   TEXT NOT NULL,
	PRIMARY KEY (alert_id, channel)
);
