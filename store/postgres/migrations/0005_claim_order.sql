-- The claim takes the most urgent due records first (priority, then id).
-- With only notifications_claim (ordered by state and channel), every claim
-- read and sorted every due row, so draining a backlog of n records cost
-- O(n^2 log n): 67 ms per claim of 256 from a backlog of 50,000. Walking this
-- index in claim order stops at the limit. notifications_claim stays for the
-- queue depth and the next due time.
CREATE INDEX notifications_claim_order ON notifications (priority DESC, id) WHERE state = 'queued';
