-- The claim takes the most urgent due records first (priority, then id).
-- With notifications_claim (ordered by state and channel), every claim read
-- and sorted every due row, so draining a backlog of n records cost
-- O(n^2 log n): 67 ms per claim of 256 from a backlog of 50,000. Walking this
-- index in claim order stops at the limit (11 ms, most of it the update).
-- It holds only queued rows and carries the columns the queue depth and the
-- next due time read, so it replaces notifications_claim, which held every
-- notification ever sent and took a new entry at every finish.
DROP INDEX notifications_claim;
CREATE INDEX notifications_claim_order ON notifications (priority DESC, id, channel, next_attempt_at, locked_until)
	WHERE state = 'queued';
