package notify

import (
	"context"
	"encoding/json"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// result is one record's outcome on its way to the store.
type result struct {
	rec *store.Notification
	res *store.NotificationResult
	// extra holds decision-log entries written with it (rate limit).
	extra []*store.Delivery
	// failed is the log entry's outcome and detail before any failover:
	// what a grouped record that rode with this one inherits (follow).
	failed struct {
		outcome store.Outcome
		detail  string
	}
}

func (d *Dispatcher) delivery(r *store.Notification, now time.Time, out store.Outcome) *store.Delivery {
	return &store.Delivery{
		NotificationID: r.ID, AlertID: r.AlertID, Fingerprint: r.Fingerprint, Channel: r.Channel,
		Event: r.Event, Attempt: r.Attempts + 1, At: now, Outcome: out,
	}
}

func (d *Dispatcher) heldEntry(r *store.Notification, now time.Time, held time.Duration) []*store.Delivery {
	if held < 50*time.Millisecond {
		return nil
	}
	e := d.delivery(r, now, store.OutcomeRateLimited)
	e.Reason = "rate_limit"
	e.Detail = "held " + held.Round(time.Millisecond).String() + " by the channel's rate limit, then sent"
	return []*store.Delivery{e}
}

func (d *Dispatcher) success(r *store.Notification, rc Receipt, now time.Time, latency, held time.Duration) *result {
	e := d.delivery(r, now, store.OutcomeSent)
	e.StatusCode, e.Latency, e.Detail = rc.StatusCode, latency, rc.Detail
	return &result{rec: r, extra: d.heldEntry(r, now, held), res: &store.NotificationResult{
		ID: r.ID, State: store.NotificationSent, Attempts: r.Attempts + 1, Delivery: e, Thread: rc.Thread,
	}}
}

// failure classifies err: retry within budget, else fail over, else fail.
// outcome overrides the log outcome of a failover (circuit_open).
func (d *Dispatcher) failure(r *store.Notification, err error, now time.Time, latency, held time.Duration, why string, attempted bool) *result {
	w := d.workers[r.Channel]
	attempts := r.Attempts
	if attempted {
		attempts++
	}
	e := d.delivery(r, now, store.OutcomeFailed)
	e.Attempt = max(attempts, 1)
	e.Latency, e.Error, e.Reason, e.StatusCode = latency, Describe(err), string(ReasonOf(err)), StatusCodeOf(err)
	if why != "" {
		e.Reason = why
	}
	res := &store.NotificationResult{ID: r.ID, Attempts: attempts, LastError: e.Error, Delivery: e}
	out := &result{rec: r, res: res, extra: d.heldEntry(r, now, held)}
	if !IsPermanent(err) && w != nil {
		if next, ok := w.retry.NextAttempt(err, max(attempts, 1), r.CreatedAt, now); ok {
			res.State, res.NextAttemptAt = store.NotificationQueued, next
			e.Outcome = store.OutcomeRetry
			e.Detail = "next attempt at " + next.UTC().Format(time.RFC3339Nano)
			return out
		}
		e.Detail = "retry budget exhausted"
	}
	res.State = store.NotificationFailed
	out.failed.outcome, out.failed.detail = e.Outcome, e.Detail
	d.failOver(r, res, e, now)
	if w != nil {
		w.mu.Lock()
		w.health.Failed++
		w.mu.Unlock()
		if !IsPermanent(err) || IsGone(err) {
			w.markExhausted()
		}
	}
	return out
}

// failOver hands a failed record to the next channel of its chain, if it
// has one, and says so in its log entry.
func (d *Dispatcher) failOver(r *store.Notification, res *store.NotificationResult, e *store.Delivery, now time.Time) {
	if len(r.Failover) == 0 {
		return
	}
	next := r.Failover[0]
	res.FailedOverTo = next
	e.Outcome = store.OutcomeFailedOver
	e.Detail = joinDetail(e.Detail, "failed over to "+next)
	res.Failover = d.failoverInsert(r, now)
}

// failoverInsert is the record that hands r to the next channel of its
// failover chain, leased to this dispatcher so it goes out at once.
func (d *Dispatcher) failoverInsert(r *store.Notification, now time.Time) *store.NotificationInsert {
	next := r.Failover[0]
	return &store.NotificationInsert{
		IdempotencyKey: IdempotencyKey(r.AlertID, r.Fingerprint, r.Sequence, next),
		AlertID:        r.AlertID, Fingerprint: r.Fingerprint, Sequence: r.Sequence,
		Channel: next, Event: r.Event, Priority: r.Priority, Payload: payloadOf(r), Decoded: r.Decoded,
		GroupKey: r.GroupKey, Failover: r.Failover[1:], CreatedAt: now, NextAttemptAt: now,
		LockedUntil: now.Add(d.leaseFor), LockedBy: d.owner,
	}
}

// follow gives a record that rode in lead's notification the lead's
// failed outcome: retried at the same time (so the group is claimed and sent
// together again), or failed, and then failed over along its own chain
// when it has one (the lead's may differ).
func (d *Dispatcher) follow(r, lead *store.Notification, lr *result, now time.Time) *result {
	res := *lr.res
	res.ID, res.Thread, res.Failover, res.FailedOverTo = r.ID, "", nil, ""
	res.Attempts = r.Attempts + (lr.res.Attempts - lead.Attempts)
	e := *lr.res.Delivery
	e.ID, e.NotificationID, e.AlertID, e.Fingerprint, e.Channel, e.Event = 0, r.ID, r.AlertID, r.Fingerprint, r.Channel, r.Event
	e.Attempt = max(res.Attempts, 1)
	if res.State == store.NotificationFailed {
		// As the lead failed, before its own failover.
		e.Outcome, e.Detail = lr.failed.outcome, lr.failed.detail
		d.failOver(r, &res, &e, now)
	}
	e.Detail = joinDetail(e.Detail, "grouped with notification "+lead.IdempotencyKey)
	res.Delivery = &e
	return &result{rec: r, res: &res}
}

// grouped finishes a record whose alert went out inside lead's notification.
func (d *Dispatcher) grouped(r, lead *store.Notification) *result {
	now := d.now()
	e := d.delivery(r, now, store.OutcomeGrouped)
	e.Detail = "sent inside notification " + lead.IdempotencyKey
	return &result{rec: r, res: &store.NotificationResult{
		ID: r.ID, State: store.NotificationSent, Attempts: r.Attempts, Delivery: e,
	}}
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// finishLinger is how long the finisher waits for more outcomes once a
// batch shows the channels are busy: fewer, larger commits write each
// touched page once instead of once per handful of outcomes. A lone
// outcome is written at once.
const finishLinger = time.Millisecond

// writeTimeout bounds one write of outcomes: 30 s, and 5 s while Run
// drains at shutdown.
func (d *Dispatcher) writeTimeout() time.Duration {
	if d.draining.Load() {
		return 5 * time.Second
	}
	return 30 * time.Second
}

// finisher writes outcomes in batches (group commit: one transaction for
// every outcome that arrived while the previous one was being written, and
// under load for those of the next finishLinger).
func (d *Dispatcher) finisher() {
	ctx := context.Background()
	const maxBatch = 512
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for first := range d.results {
		batch := []*result{first}
		open := d.gather(&batch, maxBatch)
		if open && len(batch) > 1 && len(batch) < maxBatch {
			timer.Reset(finishLinger)
		linger:
			for len(batch) < maxBatch {
				select {
				case r, ok := <-d.results:
					if !ok {
						break linger
					}
					batch = append(batch, r)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		d.flush(ctx, batch)
	}
}

// gather adds the outcomes already waiting, up to limit; false when
// results is closed.
func (d *Dispatcher) gather(batch *[]*result, limit int) bool {
	for len(*batch) < limit {
		select {
		case r, ok := <-d.results:
			if !ok {
				return false
			}
			*batch = append(*batch, r)
		default:
			return true
		}
	}
	return true
}

func (d *Dispatcher) flush(ctx context.Context, batch []*result) {
	p := &store.NotificationFinishParams{Results: make([]*store.NotificationResult, 0, len(batch)), Owner: d.owner}
	for _, r := range batch {
		p.Results = append(p.Results, r.res)
	}
	var failovers []*store.Notification
	var err error
	for attempt := 0; ; attempt++ {
		// Bounded, so a database that hangs cannot hold shutdown up for
		// long: while draining, one short try and one more.
		tries := 5
		if d.draining.Load() {
			tries = 2
		}
		fctx, cancel := context.WithTimeout(ctx, d.writeTimeout())
		failovers, err = d.st.NotificationFinish(fctx, p)
		cancel()
		if err == nil || attempt+1 >= tries {
			break
		}
		d.log.Error("record notification outcomes", "err", err, "count", len(batch), "attempt", attempt+1)
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	if err != nil {
		d.log.Error("record notification outcomes; the records are sent again when their leases end", "err", err, "count", len(batch))
		// The records stay leased; when the lease expires they are sent
		// again (at least once, same idempotency key).
		for _, r := range batch {
			if w := d.workers[r.rec.Channel]; w != nil {
				w.release(r.rec.ID)
			}
		}
		return
	}
	var extra []*store.Delivery
	skipped := 0
	for _, r := range batch {
		w := d.workers[r.rec.Channel]
		if r.res.Skipped {
			// Another replica owns the record now: nothing of this
			// outcome counts here.
			skipped++
			if w != nil {
				w.release(r.rec.ID)
			}
			continue
		}
		extra = append(extra, r.extra...)
		if w != nil {
			// Held until now, so this process never sends a record twice
			// at once. A sweep that claimed it meanwhile leased it again:
			// when that claim saw the retry this write scheduled, it is
			// the next attempt and goes to the worker now, instead of
			// waiting for that lease to end.
			if rc := w.release(r.rec.ID); rc != nil && reclaimedAfter(rc, r.res) {
				d.refuse(w.push(false, rc))
			}
		}
		d.metrics.outcome(r.rec.Channel, string(r.res.Delivery.Outcome))
		if r.res.State == store.NotificationQueued && !r.res.NextAttemptAt.IsZero() {
			d.kickSweep(r.res.NextAttemptAt)
		}
	}
	if skipped > 0 {
		d.log.Warn("outcomes not recorded: another replica took these notifications over after their leases lapsed here",
			"count", skipped)
	}
	if len(extra) > 0 {
		ictx, cancel := context.WithTimeout(ctx, d.writeTimeout())
		if err := d.st.DeliveryInsert(ictx, &store.DeliveryInsertParams{Deliveries: extra}); err != nil {
			d.log.Error("record rate-limit decisions", "err", err)
		}
		cancel()
	}
	if len(failovers) > 0 {
		d.Enqueue(failovers)
	}
}

// reclaimedAfter reports whether rc, a claim of a held record, read the row
// as res left it (a retry, with res's attempt count) rather than as it was
// before: a claim from before the write is superseded by it, since the write
// ends that lease too.
func reclaimedAfter(rc *store.Notification, res *store.NotificationResult) bool {
	return res.State == store.NotificationQueued && rc.Attempts >= res.Attempts
}

// payloadOf returns r's stored JSON, encoding it again for a record handed
// over in memory with only its decoded event.
func payloadOf(r *store.Notification) []byte {
	if r.Payload != nil || r.Decoded == nil {
		return r.Payload
	}
	ae, err := decodeEvent(r)
	if err != nil {
		return nil
	}
	b, err := json.Marshal(&ae)
	if err != nil {
		return nil
	}
	return b
}
