-- The replica that leads: it runs rule evaluation and the alert lifecycle
-- while it holds the leadership advisory lock. term grows with every
-- takeover; a leader's Apply checks it (FOR SHARE), so a replica that lost
-- the lock without noticing yet cannot write beside its successor, and the
-- successor's takeover waits for the old leader's transaction in flight.
CREATE TABLE leader (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	term    BIGINT NOT NULL,
	replica TEXT NOT NULL,
	url     TEXT NOT NULL DEFAULT '',
	since   BIGINT NOT NULL
);
