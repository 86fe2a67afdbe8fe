package lifecycle

import (
	"context"
	"fmt"

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
	if err := m.reconcile(ctx, now); err != nil {
		return err
	}
	var b batch
	timed := m.timedRoutes()
	for _, e := range m.open {
		a := e.a
		if a.EndsAt != nil && !a.EndsAt.After(now) && a.Source == "api" {
			next := a.Clone()
			next.ResolvedAt = &now
			m.transition(&b, e, next, change{to: alert.StateResolved, kind: alert.KindEnded, by: "api", comment: "end time passed"}, now)
			continue
		}
		if a.State != alert.StateActive || !timed {
			continue
		}
		plan := m.route(a, e.explicit)
		if a.ActiveAt != nil && a.EscalationLevel < len(plan.escalate) {
			step := plan.escalate[a.EscalationLevel]
			if !a.ActiveAt.Add(step.After).After(now) {
				next := a.Clone()
				next.EscalationLevel++
				m.transition(&b, e, next, change{
					to: alert.StateActive, kind: alert.KindEscalate, by: "escalation",
					comment: fmt.Sprintf("after %s (step %d)", step.After, next.EscalationLevel), notify: step.Notify,
				}, now)
				continue
			}
		}
		if plan.repeat > 0 && a.LastNotifiedAt != nil && !a.LastNotifiedAt.Add(plan.repeat).After(now) && len(a.Channels) > 0 {
			next := a.Clone()
			m.transition(&b, e, next, change{to: alert.StateActive, kind: alert.KindRenotify, by: "renotify"}, now)
		}
	}
	for k, due := range m.groupDue {
		if due.Before(now) {
			delete(m.groupDue, k)
		}
	}
	return m.commit(ctx, &b)
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
