package lifecycle

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// change describes one transition to build.
type change struct {
	to      alert.State
	kind    string // alert.KindRenotify, alert.KindEscalate, alert.KindEnded or ""
	by      string
	comment string
	// notify overrides the channels told (escalation steps).
	notify []string
}

// transition builds the new row, its transition and its notifications for
// e's alert and adds them to b. The in-memory entry is updated only after
// the batch commits. Must hold mu.
func (m *Manager) transition(b *batch, e *entry, next *alert.Alert, c change, now time.Time) {
	from := alert.State("")
	if e.held() {
		from = e.state
		next.Sequence = e.seq + 1
	} else {
		next.Sequence = 1
	}
	next.State = c.to
	next.UpdatedAt = now
	if m.render != nil && (!e.held() || c.to != from || c.kind != "") {
		m.render(next)
	}
	tr := &alert.Transition{
		AlertID: next.ID, Fingerprint: next.Fingerprint, Sequence: next.Sequence,
		From: from, To: c.to, At: now, Kind: c.kind, By: c.by, Comment: c.comment, Value: next.Value,
	}

	plan := m.route(next, e.explicit)
	// Channels an older release (or an earlier configuration) recorded
	// may name a channel the alert must never notify.
	next.Channels = m.allowed(next, next.Channels)
	var ev notify.Event
	var chans []string
	switch {
	case c.kind == alert.KindEscalate:
		ev, chans = notify.EventEscalated, m.allowed(next, c.notify)
		next.Channels = union(next.Channels, chans)
	case c.kind == alert.KindRenotify:
		ev, chans = notify.EventRenotify, next.Channels
		next.LastNotifiedAt = &now
	case c.to == alert.StateActive && from != alert.StateActive:
		ev = notify.EventActive
		for _, t := range plan.targets {
			chans = append(chans, t.channel)
		}
		next.Channels = union(next.Channels, chans)
		next.LastNotifiedAt = &now
		if next.ActiveAt == nil {
			next.ActiveAt = &now
		}
	case c.to == alert.StateAcknowledged:
		ev, chans = notify.EventAcknowledged, next.Channels
	case c.to == alert.StateResolved:
		ev, chans = notify.EventResolved, next.Channels
	}

	sc := store.Change{Alert: next, Transition: tr}
	if c.to == alert.StateSuppressed {
		for _, t := range plan.targets {
			sc.Deliveries = append(sc.Deliveries, &store.Delivery{
				AlertID: next.ID, Fingerprint: next.Fingerprint, Channel: t.channel,
				Event: string(notify.EventActive), At: now, Outcome: store.OutcomeSilenced,
				Reason: "silence", Detail: "not sent: silence " + next.SilencedBy + " matches the alert",
			})
		}
	}
	var held *heldEvent
	if ev != "" && len(chans) > 0 {
		// The event shares next (a committed alert is never changed in
		// place: every change works on a Clone), so it stays as it was.
		ae := &notify.AlertEvent{Alert: next, PreviousState: from}
		held = &heldEvent{ae: ae, prev: from}
		// AppendJSON writes json.Marshal's bytes without its reflection;
		// encoding into scratch keeps the stored payload exact-size.
		var scratch [1024]byte
		var payload []byte
		if enc, err := ae.AppendJSON(scratch[:0]); err != nil {
			// Providers' NaN and infinities are refused upstream, so this
			// is a bug; the record still goes out from memory, and fails
			// with a clear error if it must be read back.
			m.log.Error("encode notification payload", "alert", next.ID, "err", err)
		} else {
			payload = bytes.Clone(enc)
		}
		for _, ch := range chans {
			t := findTarget(plan, ch)
			ins := &store.NotificationInsert{
				IdempotencyKey: notify.IdempotencyKey(next.ID, next.Fingerprint, next.Sequence, ch),
				AlertID:        next.ID, Fingerprint: next.Fingerprint, Sequence: next.Sequence,
				Channel: ch, Event: string(ev), Priority: priority(next.Severity, ev),
				Payload: payload, Decoded: held, GroupKey: t.groupKey, Failover: t.failover,
				CreatedAt: now, NextAttemptAt: now,
			}
			if ev == notify.EventActive && t.groupKey != "" && (t.groupWait > 0 || t.groupInterval > 0) {
				ins.NextAttemptAt = m.groupSend(t.groupKey+"/"+ch, t, now)
			}
			if !ins.NextAttemptAt.After(now) {
				ins.LockedUntil = now.Add(m.leaseFor)
				ins.LockedBy = m.owner
			}
			sc.Notifications = append(sc.Notifications, ins)
		}
		if c.kind == alert.KindEscalate {
			sc.Deliveries = append(sc.Deliveries, &store.Delivery{
				AlertID: next.ID, Fingerprint: next.Fingerprint, Event: string(ev), At: now,
				Outcome: store.OutcomeEscalated, Reason: "unacknowledged",
				Detail: "escalated to " + strings.Join(chans, ", ") + ": not acknowledged " + c.comment,
			})
		}
	}

	if c.to != alert.StateResolved {
		b.dueTimers(timersFrom(next, plan))
	}
	b.add(sc, func() {
		if c.to == alert.StateResolved {
			if cur, ok := m.open[next.Fingerprint]; ok && cur.id == next.ID {
				delete(m.open, next.Fingerprint)
			}
			delete(m.byID, next.ID)
			return
		}
		e.set(next)
		if held != nil && e.packed != "" {
			// The records on their way share the packed bytes, not next.
			held.packed, held.ae = e.packed, nil
		}
		m.index(e, next.Fingerprint)
	})
}

func findTarget(plan routing, ch string) target {
	for _, t := range plan.targets {
		if t.channel == ch {
			return t
		}
	}
	// A channel reached by escalation or an earlier route keeps the
	// failover chain of the first route target, minus itself.
	if len(plan.targets) > 0 {
		return target{channel: ch, failover: without(plan.targets[0].failover, ch)}
	}
	return target{channel: ch}
}

// priority orders the queue: critical before info, firing before resolved.
func priority(s alert.Severity, ev notify.Event) int {
	p := int(s) * 10
	if ev.Firing() {
		p += 5
	}
	return p
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// groupSend returns when a new alert of group gk goes out, and remembers it
// as the group's latest notification: with the one the group has waiting,
// else group_interval after the group's last one when that was recent,
// else after group_wait (a new group). Must hold mu.
func (m *Manager) groupSend(gk string, t target, now time.Time) time.Time {
	last, ok := m.groupDue[gk]
	var due time.Time
	switch {
	case ok && last.After(now):
		due = last
	case ok && now.Before(last.Add(t.groupInterval)):
		due = last.Add(t.groupInterval)
	default:
		due = now.Add(t.groupWait)
	}
	m.groupDue[gk] = due
	return due
}
