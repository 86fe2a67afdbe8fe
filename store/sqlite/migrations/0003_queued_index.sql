-- Only queued rows are claimed, counted or searched for the next due time,
-- so the queue index holds just them: a finished notification leaves it
-- instead of moving inside it, and the alert index no longer carries the
-- state, so finishing a notification touches no other index. The index
-- covers every column the claim filter, the queue depth and the next due
-- time read, so none of them reads a queued row it does not return.
DROP INDEX notifications_claim;
DROP INDEX notifications_alert;
CREATE INDEX notifications_queued ON notifications (channel, next_attempt_at, locked_until, priority)
	WHERE state = 'queued';
CREATE INDEX notifications_alert ON notifications (alert_id);
