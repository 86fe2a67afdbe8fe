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
	for k, due := range m.groupDue {
		if due.Before(now) {
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
		if t.Before(next) {
			next = t
		}
	}
	for _, e := range m.open {
		a := e.a
		if a.EndsAt != nil && a.Source == "api" {
			if !a.EndsAt.After(now) {
				nx := a.Clone()
				nx.ResolvedAt = &now
				m.transition(&b, e, nx, change{to: alert.StateResolved, kind: alert.KindEnded, by: "api", comment: "end time passed"}, now)
				continue
			}
			due(*a.EndsAt)
		}
		if a.State != alert.StateActive || !timed {
			continue
		}
		plan := m.route(a, e.explicit)
		if a.ActiveAt != nil && a.EscalationLevel < len(plan.escalate) {
			step := plan.escalate[a.EscalationLevel]
			at := a.ActiveAt.Add(step.After)
			if !at.After(now) {
				nx := a.Clone()
				nx.EscalationLevel++
				m.transition(&b, e, nx, change{
					to: alert.StateActive, kind: alert.KindEscalate, by: "escalation",
					comment: fmt.Sprintf("after %s (step %d)", step.After, nx.EscalationLevel), notify: step.Notify,
				}, now)
				continue
			}
			due(at)
		}
		if plan.repeat > 0 && a.LastNotifiedAt != nil && len(a.Channels) > 0 {
			at := a.LastNotifiedAt.Add(plan.repeat)
			if !at.After(now) {
				nx := a.Clone()
				m.transition(&b, e, nx, change{to: alert.StateActive, kind: alert.KindRenotify, by: "renotify"}, now)
				continue
			}
			due(at)
		}
	}
	if err := m.commit(ctx, &b); err != nil {
		return err
	}
	if len(b.changes) == 0 {
		m.scanDue = next
	}
	return nil
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
