package notify

import (
	"context"
	"errors"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// A receiver must hear of one alert in order: never of its resolution (or
// acknowledgement) before its firing. Within one send queue the heap's
// priority and the busy set see to that, but an earlier notification can
// also be waiting outside it: a retry scheduled after a failed attempt, a
// grouped notification whose group_wait has not ended, a record another
// replica holds. A later transition's notification then waits behind it,
// in memory and still leased, and looks again later.

// orderPoll is the first wait behind an earlier notification that is due
// (being sent, or about to be); each further look waits twice as long, up
// to orderPollMax.
const (
	orderPoll    = 250 * time.Millisecond
	orderPollMax = 30 * time.Second
)

// holdBehind holds the records that have an earlier notification of their
// alert still queued on this channel and returns the others, free to go.
// A group holds at most one record per alert (pop), so the earlier one is
// never in the same batch.
func (w *worker) holdBehind(ctx context.Context, recs []*store.Notification) []*store.Notification {
	free := recs[:0:0]
	for _, r := range recs {
		if e := w.earlier(ctx, r); e != nil {
			w.hold(ctx, r, e)
			continue
		}
		free = append(free, r)
	}
	return free
}

// earlier returns the earliest queued notification of r's alert on this
// channel from an earlier transition, or nil. Records whose send succeeded
// and whose outcome is still being written count as sent. A failed lookup
// does not hold delivery up.
func (w *worker) earlier(ctx context.Context, r *store.Notification) *store.Notification {
	var above int64
	for r.Sequence > above+1 {
		e, err := w.d.st.NotificationEarlier(ctx, &store.NotificationEarlierParams{
			AlertID: r.AlertID, Channel: r.Channel, Sequence: r.Sequence, Above: above,
		})
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				w.d.log.Warn("look for an earlier notification of the alert; sending anyway",
					"channel", w.cfg.Name, "alert", r.AlertID, "err", err)
			}
			return nil
		}
		w.mu.Lock()
		sent := w.sentUnwritten[e.ID]
		w.mu.Unlock()
		if !sent {
			return e
		}
		above = e.Sequence
	}
	return nil
}

// hold puts r back in the queue later: after earlier's next attempt time,
// or its lease when another replica holds it, and otherwise after a wait
// that doubles with each look. The delivery log says so once.
func (w *worker) hold(ctx context.Context, r, earlier *store.Notification) {
	d := w.d
	now := d.now()
	w.mu.Lock()
	looks := w.heldBehind[r.ID]
	w.heldBehind[r.ID] = looks + 1
	// The earlier one comes in past the fill once due (room.go): a
	// channel full of records waiting for it would otherwise stall.
	w.awaited[earlier.ID]++
	w.waiting++
	w.mu.Unlock()
	wait := min(orderPoll<<min(looks, 8), orderPollMax)
	if earlier.NextAttemptAt.After(now) {
		wait = max(wait, earlier.NextAttemptAt.Sub(now)+orderPoll)
	}
	if earlier.LockedBy != "" && earlier.LockedBy != d.owner && earlier.LockedUntil.After(now) {
		wait = max(wait, earlier.LockedUntil.Sub(now)+orderPoll)
	}
	if looks == 0 {
		e := d.delivery(r, now, store.OutcomeHeld)
		e.Attempt = r.Attempts
		e.Reason = "earlier_notification_queued"
		e.Detail = "waits for notification " + earlier.IdempotencyKey + " (" + earlier.Event +
			") of the same alert on this channel, so the receiver hears of the alert in order"
		if err := d.st.DeliveryInsert(ctx, &store.DeliveryInsertParams{Deliveries: []*store.Delivery{e}}); err != nil {
			d.log.Warn("log a notification held behind an earlier one", "channel", w.cfg.Name, "err", err)
		}
	}
	time.AfterFunc(wait, func() {
		if d.stopped.Load() {
			return // Run released its lease.
		}
		w.mu.Lock()
		if w.awaited[earlier.ID]--; w.awaited[earlier.ID] <= 0 {
			delete(w.awaited, earlier.ID)
		}
		w.waiting--
		w.mu.Unlock()
		w.requeue([]*store.Notification{r})
		w.signal()
	})
}
