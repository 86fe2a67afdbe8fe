-- Only queued rows are claimed, counted or searched for the next due time,
-- so the claim index holds just them: a finished notification leaves it
-- instead of moving inside it, and the alert index no longer carries the
-- state, so finishing a notification touches no index but this one.
DROP INDEX notifications_claim;
DROP INDEX notifications_alert;
CREATE INDEX notifications_queued ON notifications (next_attempt_at, priority) WHERE state = 'queued';
CREATE INDEX notifications_alert ON notifications (alert_id);
