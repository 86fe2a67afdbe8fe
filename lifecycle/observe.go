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
	for _, i := range m.onePerSeries(obs) {
		m.observe(&b, &obs[i], now)
	}
	return m.commit(ctx, &b)
}

// rank orders conditions for onePerSeries: firing over pending over clear.
func rank(c Condition) int {
	switch c {
	case Firing:
		return 3
	case Pending:
		return 2
	case Inactive:
		return 1
	}
	return 0
}

// onePerSeries returns the indexes of the observations to apply, one per
// fingerprint. Two series a rule's labels make identical (a rule label
// that overrides the one telling them apart) share an alert: the most
// urgent condition of them speaks for it, the first on a tie. Applying
// both would open the alert twice and fail the whole cycle. Must hold mu.
func (m *Manager) onePerSeries(obs []Observation) []int {
	idx := make([]int, 0, len(obs))
	at := make(map[alert.Fingerprint]int, len(obs))
	for i := range obs {
		fp := obs[i].Fingerprint
		j, dup := at[fp]
		if !dup {
			at[fp] = len(idx)
			idx = append(idx, i)
			continue
		}
		if rank(obs[i].Condition) > rank(obs[idx[j]].Condition) {
			idx[j] = i
		}
		if !m.warnedSame[fp] {
			if m.warnedSame == nil {
				m.warnedSame = map[alert.Fingerprint]bool{}
			}
			m.warnedSame[fp] = true
			m.log.Warn("two series of a rule have the same labels and share one alert; give the rule's labels no name the series' labels use",
				"rule", obs[i].RuleID, "fingerprint", fp)
		}
	}
	return idx
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
		next := e.copy()
		next.Value = o.Value
		next.ResolvedAt = &now
		by := "evaluator"
		if e.state == alert.StatePending {
			by = "evaluator: cleared before its for duration"
		}
		m.transition(b, e, next, change{to: alert.StateResolved, by: by}, now)
	case Pending, Firing:
		if open {
			// The rule's channels are not stored with the alert: an alert
			// restored after a restart learns them again here.
			e.explicit = o.Channels
			if o.Condition == Pending || e.state != alert.StatePending {
				// Already pending or firing: only the value moves. It is
				// kept in memory and written with the next transition. The
				// alert is replaced, not changed: notifications on their way
				// share the committed one.
				if cur := e.alert(); cur.Value != o.Value {
					cp := *cur
					cp.Value = o.Value
					e.set(&cp)
				}
				return
			}
			next := e.copy()
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
