package lifecycle

import (
	"context"
	"maps"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Condition is what a rule evaluation says about one series.
type Condition int

// Conditions reported by the evaluator.
const (
	// Inactive: the condition is clear (after any hold time): an open alert
	// of this series resolves (a pending one is dropped quietly).
	Inactive Condition = iota
	// Pending: the condition holds but `for` has not elapsed.
	Pending
	// Firing: the condition held for `for`: the alert is active.
	Firing
	// NoData: the series has no samples; the alert keeps its state.
	NoData
)

// Observation is one rule's verdict on one series in an evaluation cycle.
type Observation struct {
	RuleID      string
	RuleName    string
	Fingerprint alert.Fingerprint
	Labels      alert.Labels
	Condition   Condition
	Value       float64
	Threshold   *float64
	Severity    alert.Severity
	Summary     string
	Description string
	Annotations map[string]string
	Metadata    map[string]string
	// Channels, when set, are notified instead of the routes' channels.
	Channels []string
}

// Observe applies one evaluation cycle's observations in one transaction.
// Series without an observation keep their state.
func (m *Manager) Observe(ctx context.Context, obs []Observation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var b batch
	for i := range obs {
		m.observe(&b, &obs[i], now)
	}
	return m.commit(ctx, &b)
}

// observe must hold mu.
func (m *Manager) observe(b *batch, o *Observation, now time.Time) {
	e, open := m.open[o.Fingerprint]
	switch o.Condition {
	case NoData:
		return
	case Inactive:
		if !open {
			return
		}
		next := e.a.Clone()
		next.Value = o.Value
		next.ResolvedAt = &now
		by := "evaluator"
		if e.a.State == alert.StatePending {
			by = "evaluator: cleared before its for duration"
		}
		m.transition(b, e, next, change{to: alert.StateResolved, by: by}, now)
	case Pending, Firing:
		if open {
			if o.Condition == Pending || e.a.State != alert.StatePending {
				// Already pending or firing: only the value moves. It is
				// kept in memory and written with the next transition. The
				// alert is replaced, not changed: notifications on their way
				// share the committed one.
				if e.a.Value != o.Value {
					cp := *e.a
					cp.Value = o.Value
					e.a = &cp
				}
				return
			}
			next := e.a.Clone()
			fill(next, o)
			m.activate(b, e, next, now, "evaluator")
			return
		}
		e = &entry{explicit: o.Channels}
		next := &alert.Alert{
			ID: newID(), Fingerprint: o.Fingerprint, RuleID: o.RuleID, Source: "rule",
			StartedAt: now,
		}
		fill(next, o)
		if o.Condition == Pending {
			m.transition(b, e, next, change{to: alert.StatePending, by: "evaluator"}, now)
			return
		}
		m.activate(b, e, next, now, "evaluator")
	}
}

// activate moves an alert to active, or to suppressed when a silence
// matches. Must hold mu.
func (m *Manager) activate(b *batch, e *entry, next *alert.Alert, now time.Time, by string) {
	if s := m.silenceFor(next.Labels, now); s != nil {
		next.SilencedBy = s.ID
		m.transition(b, e, next, change{to: alert.StateSuppressed, by: by, comment: "silenced by " + s.ID}, now)
		return
	}
	next.SilencedBy = ""
	m.transition(b, e, next, change{to: alert.StateActive, by: by}, now)
}

func fill(a *alert.Alert, o *Observation) {
	a.RuleName = o.RuleName
	a.Labels = o.Labels
	a.Value = o.Value
	a.Threshold = o.Threshold
	setTexts(a, o.Severity, o.Summary, o.Description, o.Annotations)
	if o.Metadata != nil {
		a.Metadata = maps.Clone(o.Metadata)
	}
}

// setTexts sets a's severity (medium when unset) and the texts given; an
// empty text keeps the one a has.
func setTexts(a *alert.Alert, sev alert.Severity, summary, description string, annotations map[string]string) {
	a.Severity = sev
	if a.Severity == 0 {
		a.Severity = alert.Medium
	}
	if summary != "" {
		a.Summary = summary
	}
	if description != "" {
		a.Description = description
	}
	if annotations != nil {
		a.Annotations = maps.Clone(annotations)
	}
}
