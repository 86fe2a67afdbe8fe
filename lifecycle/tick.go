package lifecycle

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// Tick runs the time-driven part of the lifecycle at the clock's now:
// silences that start or end, pushed alerts whose end time passed,
// renotification of unacknowledged active alerts after their route's
// repeat interval, and escalation steps. Call it about once a second; it
// writes nothing when nothing is due.
func (m *Manager) Tick(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if !m.silenceDue.IsZero() && !now.Before(m.silenceDue) {
		if err := m.reconcile(ctx, now); err != nil {
			return err
		}
	}
	// A group's latest notification time matters until group_interval
	// after it.
	keep := m.groupKeep()
	for k, due := range m.groupDue {
		if due.Add(keep).Before(now) {
			delete(m.groupDue, k)
		}
	}
	// Nothing changed since the last scan and nothing falls due yet: an
	// idle engine holding many alerts does no work here.
	if !m.scanDue.IsZero() && now.Before(m.scanDue) {
		return nil
	}
	var b batch
	timed := m.timedRoutes()
	next := now.Add(time.Hour)
	due := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	for _, e := range m.open {
		if e.a == nil && e.dueGen == m.routesGen && now.Before(e.due) {
			due(e.due)
			continue
		}
		a := e.alert()
		tm := m.timersOf(e, a, timed)
		switch {
		case !tm.ends.IsZero() && !tm.ends.After(now):
			nx := a.Clone()
			nx.ResolvedAt = &now
			m.transition(&b, e, nx, change{to: alert.StateResolved, kind: alert.KindEnded, by: "api", comment: "end time passed"}, now)
		case !tm.escalate.IsZero() && !tm.escalate.After(now):
			step := tm.step
			nx := a.Clone()
			nx.EscalationLevel++
			m.transition(&b, e, nx, change{
				to: alert.StateActive, kind: alert.KindEscalate, by: "escalation",
				comment: fmt.Sprintf("after %s (step %d)", step.After, nx.EscalationLevel), notify: step.Notify,
			}, now)
		case !tm.repeat.IsZero() && !tm.repeat.After(now):
			m.transition(&b, e, a.Clone(), change{to: alert.StateActive, kind: alert.KindRenotify, by: "renotify"}, now)
		default:
			due(tm.ends)
			due(tm.escalate)
			due(tm.repeat)
			if e.a == nil {
				e.due, e.dueGen = tm.earliest(), m.routesGen
			}
		}
	}
	// The alerts changed here lower it again when the batch commits.
	m.scanDue = next
	if err := m.commit(ctx, &b); err != nil {
		m.scanDue = time.Time{}
		return err
	}
	return nil
}

// earliest is the first of tm's times, noTimer when none is set.
func (tm timers) earliest() time.Time {
	first := noTimer
	for _, t := range []time.Time{tm.ends, tm.escalate, tm.repeat} {
		if !t.IsZero() && t.Before(first) {
			first = t
		}
	}
	return first
}

// timers are the times an open alert falls due for Tick; zero when not set.
type timers struct {
	// ends is a pushed alert's end time.
	ends time.Time
	// escalate is when the next escalation step (step) is due.
	escalate time.Time
	step     Escalation
	// repeat is when the alert is notified again.
	repeat time.Time
}

// timersOf reads the timers of e, whose alert is a. timed says whether any
// route escalates or repeats (else only the end time counts). Must hold mu.
func (m *Manager) timersOf(e *entry, a *alert.Alert, timed bool) timers {
	if a.State != alert.StateActive || !timed {
		return timersFrom(a, routing{})
	}
	return timersFrom(a, m.route(a, e.explicit))
}

// timersFrom reads a's timers under its routing plan.
func timersFrom(a *alert.Alert, plan routing) timers {
	var tm timers
	if a.EndsAt != nil && a.Source == "api" {
		tm.ends = *a.EndsAt
	}
	if a.State != alert.StateActive {
		return tm
	}
	if a.ActiveAt != nil && a.EscalationLevel < len(plan.escalate) {
		tm.step = plan.escalate[a.EscalationLevel]
		tm.escalate = a.ActiveAt.Add(tm.step.After)
	}
	if plan.repeat > 0 && a.LastNotifiedAt != nil && len(a.Channels) > 0 {
		tm.repeat = a.LastNotifiedAt.Add(plan.repeat)
	}
	return tm
}

// dueTimers notes every timer of tm.
func (b *batch) dueTimers(tm timers) {
	b.dueAt(tm.ends)
	b.dueAt(tm.escalate)
	b.dueAt(tm.repeat)
}

// timedRoutes reports whether any route escalates or repeats, so Tick can
// skip routing every open alert when none does. Must hold mu.
func (m *Manager) timedRoutes() bool {
	for _, r := range m.routes {
		if len(r.Escalate) > 0 || r.RepeatInterval > 0 {
			return true
		}
	}
	return false
}

// Prune deletes resolved alerts older than the history retention, keeping
// at least the newest HistoryKeep. Call it now and then (every few minutes).
func (m *Manager) Prune(ctx context.Context) (int, error) {
	return m.store.AlertPrune(ctx, &store.AlertPruneParams{Before: m.now().Add(-m.retention), Keep: m.keep})
}

// groupKeep is the longest group_interval of the routes: how long a group's
// latest notification time is kept. Must hold mu.
func (m *Manager) groupKeep() time.Duration {
	var keep time.Duration
	for _, r := range m.routes {
		keep = max(keep, r.GroupInterval)
	}
	return keep
}
