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
// also be waiting outside it: a retry scheduled after a failed attempt, or
// a grouped notification whose group_wait has not ended. A later
// transition's notification then waits behind it, in memory, still leased.

// orderPoll is how long a notification waits before it looks again at an
// earlier one that is due (being sent, or about to be).
const orderPoll = 250 * time.Millisecond

// behind returns a queued notification of one of recs' alerts on this
// channel from an earlier transition, or nil when none waits. A record
// whose send succeeded and whose outcome is still being written counts as
// sent. A failed lookup does not hold delivery up.
func (w *worker) behind(ctx context.Context, recs []*store.Notification) *store.Notification {
	for _, r := range recs {
		if r.Sequence <= 1 {
			continue
		}
		e, err := w.d.st.NotificationEarlier(ctx, &store.NotificationEarlierParams{
			AlertID: r.AlertID, Channel: r.Channel, Sequence: r.Sequence,
		})
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				w.d.log.Warn("look for an earlier notification of the alert; sending anyway",
					"channel", w.cfg.Name, "alert", r.AlertID, "err", err)
			}
			continue
		}
		w.mu.Lock()
		sent := w.sentUnwritten[e.ID]
		w.mu.Unlock()
		if !sent {
			return e
		}
	}
	return nil
}

// holdBehind puts recs back in the queue once earlier has had its turn: at
// its next attempt time when that is ahead, else after orderPoll. The
// delivery log says so once per record.
func (w *worker) holdBehind(ctx context.Context, recs []*store.Notification, earlier *store.Notification) {
	d := w.d
	now := d.now()
	wait := orderPoll
	if earlier.NextAttemptAt.After(now) {
		wait += earlier.NextAttemptAt.Sub(now)
	}
	var entries []*store.Delivery
	w.mu.Lock()
	for _, r := range recs {
		if w.heldBehind[r.ID] {
			continue
		}
		w.heldBehind[r.ID] = true
		e := d.delivery(r, now, store.OutcomeHeld)
		e.Attempt = r.Attempts
		e.Reason = "earlier_notification_queued"
		e.Detail = "waits for notification " + earlier.IdempotencyKey + " (" + earlier.Event +
			") of the same alert on this channel, so the receiver hears of the alert in order"
		entries = append(entries, e)
	}
	w.mu.Unlock()
	if len(entries) > 0 {
		if err := d.st.DeliveryInsert(ctx, &store.DeliveryInsertParams{Deliveries: entries}); err != nil {
			d.log.Warn("log a notification held behind an earlier one", "channel", w.cfg.Name, "err", err)
		}
	}
	time.AfterFunc(wait, func() {
		w.requeue(recs)
		w.signal()
	})
}
