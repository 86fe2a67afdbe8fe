-- Each replica's view of each channel's health. Every replica replaces its
-- rows when a channel's health changes and at least every 15 s; the leader
-- reads the fresh rows of all replicas and raises the self-alert about a
-- channel that fails on any of them. reported_at is the database's clock,
-- so freshness never compares two replicas' clocks.
CREATE TABLE channel_health (
	replica     TEXT NOT NULL,
	channel     TEXT NOT NULL,
	type        TEXT NOT NULL DEFAULT '',
	healthy     BOOLEAN NOT NULL,
	circuit     TEXT NOT NULL DEFAULT '',
	last_error  TEXT NOT NULL DEFAULT '',
	reported_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (replica, channel)
);
