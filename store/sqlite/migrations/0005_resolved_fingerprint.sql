-- Alert fingerprints are hashes, so an index on them takes each new alert
-- into a random leaf: a burst of new alerts wrote (and fsynced) about one
-- index page per alert for each such index. Open alerts already have one
-- (alerts_open_fingerprint, which keeps them unique); the index for
-- looking up an earlier incarnation now holds only resolved alerts, so
-- firing writes one random index and resolving moves the entry between the
-- two. Lookups by fingerprint query both (AlertGet).
DROP INDEX alerts_fingerprint_started;
CREATE INDEX alerts_resolved_fingerprint ON alerts (fingerprint, started_at) WHERE state = 'resolved';
