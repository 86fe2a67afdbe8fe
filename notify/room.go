package notify

import (
	"context"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/klaxonhq/klaxon/store"
)

// The sweep brings records from the store into memory only while their
// channel holds fewer than maxHeld, queued or in flight, so a backlog (a
// receiver down through an alert storm, retries and renotifications piling
// up) waits in the store instead of in the heap. Past the fill, records
// more urgent than the least urgent one held still come in, up to twice
// the fill, so a critical page does not wait behind a held backlog of
// lesser ones; and while the
// circuit is open, records with a failover chain come in too, since they
// move on at once. What is left out stays queued in the store, unleased,
// and the sweep claims it in priority order as room frees.
//
// Fresh records, handed over by the transition that wrote them, always come
// in: they share the alert the lifecycle holds anyway, so they cost a few
// hundred bytes each and grow with the open alerts, not with a backlog; and
// sending one back to the store to claim it again costs a lease write, a
// claim and a decode each (at 100,000 alerts in a burst, 22 % more CPU for
// 4 % less peak memory, measured).
//
// Records waiting behind an earlier notification of their alert (order.go)
// keep their room, and the earlier one comes in past the fill once due,
// whatever its priority: a channel full of records waiting for it would
// otherwise stall. A channel can so fill with waiting records; the rest of
// its backlog then waits in the store until what they wait for comes due (a
// retry's backoff, a Retry-After, a group's next send, another replica's
// lease), except records more urgent than the least urgent held, which
// still come in: waiting records do not count towards their limit.

// DefaultMaxHeld is the default of DispatcherOptions.MaxHeld.
const DefaultMaxHeld = 10000

// admitLocked reports whether the worker takes r, a record claimed from
// the store, now. w.mu is held.
func (w *worker) admitLocked(r *store.Notification, open bool) bool {
	if len(w.held) < w.maxHeld || w.awaited[r.ID] > 0 {
		return true
	}
	if len(r.Failover) > 0 && open {
		return true
	}
	low, ok := w.lowestHeldLocked()
	return ok && r.Priority > low
}

// lowestHeldLocked returns the least priority held. w.mu is held.
func (w *worker) lowestHeldLocked() (low int, ok bool) {
	for p := range w.heldPrio {
		if !ok || p < low {
			low, ok = p, true
		}
	}
	return low, ok
}

// holdLocked adds r to the held set. w.mu is held.
func (w *worker) holdLocked(r *store.Notification) {
	w.held[r.ID] = r.Priority
	w.heldPrio[r.Priority]++
}

// unholdLocked removes id from the held set. w.mu is held.
func (w *worker) unholdLocked(id int64) {
	p, ok := w.held[id]
	if !ok {
		return
	}
	delete(w.held, id)
	if w.heldPrio[p]--; w.heldPrio[p] <= 0 {
		delete(w.heldPrio, p)
	}
}

// roomFreedLocked reports whether records were left in the store for want
// of room and there is room for a good share of them now, and if so forgets
// that they were. w.mu is held.
func (w *worker) roomFreedLocked(open bool) bool {
	if !w.overflowed {
		return false
	}
	if len(w.held) > w.maxHeld*3/4 && !open {
		return false
	}
	w.overflowed = false
	return true
}

// claims returns what a sweep may claim for this channel, each with its
// limit (at most batch) and whether a claim that fills its limit calls for
// another round, and whether the channel has room for everything due: then
// one claim for every channel serves it.
func (w *worker) claims(batch int) (cs []claim, roomy bool) {
	// Asked before w.mu: a State call may move the breaker to half-open,
	// and OnStateChange (setCircuit) locks w.mu.
	open := w.breaker.State() == gobreaker.StateOpen
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.held)
	if n+batch <= w.maxHeld {
		return nil, true
	}
	if n < w.maxHeld {
		cs = append(cs, claim{store.NotificationClaimParams{Channel: w.cfg.Name, Limit: min(batch, w.maxHeld-n)}, true})
	} else if low, ok := w.lowestHeldLocked(); ok && n-w.waiting < 2*w.maxHeld {
		// More urgent than something held: it goes ahead of it anyway.
		// Up to twice the fill, not counting records waiting behind an
		// earlier one: however many wait, and however long (a group's
		// next send, a Retry-After), a critical page still comes in.
		cs = append(cs, claim{store.NotificationClaimParams{Channel: w.cfg.Name, MinPriority: low + 1,
			Limit: min(batch, 2*w.maxHeld-(n-w.waiting))}, true})
	}
	if len(w.awaited) > 0 {
		// Earlier notifications that held records wait for: whatever
		// their priority, they come in once due, or the records waiting
		// for them would hold the room for good.
		ids := make([]int64, 0, min(len(w.awaited), batch))
		for id := range w.awaited {
			if len(ids) == batch {
				break
			}
			ids = append(ids, id)
		}
		cs = append(cs, claim{store.NotificationClaimParams{Channel: w.cfg.Name, IDs: ids, Limit: len(ids)}, false})
	}
	if open {
		// They move on within circuitPoll; the sweep the room they free
		// wakes takes more.
		cs = append(cs, claim{store.NotificationClaimParams{Channel: w.cfg.Name, FailoverOnly: true, Limit: batch}, false})
	}
	// Whatever a claim leaves behind is claimed when room frees.
	w.overflowed = true
	return cs, false
}

// claim is one claim of a sweep round and whether filling its limit calls
// for another round.
type claim struct {
	p    store.NotificationClaimParams
	more bool
}

// refuse hands records a worker did not take back to the store: their
// leases end at the next sweep, so any replica (or this one, once room
// frees) claims them in priority order.
func (d *Dispatcher) refuse(recs []*store.Notification) {
	if len(recs) == 0 {
		return
	}
	d.mu.Lock()
	for _, r := range recs {
		d.refused = append(d.refused, r.ID)
	}
	d.mu.Unlock()
	d.kickSweep(d.now())
}

// releaseRefused ends the leases of refused records.
func (d *Dispatcher) releaseRefused(ctx context.Context) {
	d.mu.Lock()
	ids := d.refused
	d.refused = nil
	d.mu.Unlock()
	err := d.leaseIDs(ctx, ids, time.Time{})
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down: releaseHeld tries again with its own context.
		d.mu.Lock()
		d.refused = append(d.refused, ids...)
		d.mu.Unlock()
	case err != nil:
		d.log.Warn("hand records a full channel left back to the store; their leases end on their own", "err", err)
	}
}
