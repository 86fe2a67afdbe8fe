package rule

import (
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Restore tells the evaluator about a series that was pending or firing
// before a restart (an open alert loaded from the store), so it is tracked
// from the first cycle: when its condition turns out to be clear the series
// reports Inactive and the alert resolves, instead of staying open because
// a fresh evaluator never saw it breach. labels are the alert's labels (rule
// labels and alertname included); since is when it became pending (state
// Pending) or started firing (state Firing). It reports false when the rule
// is unknown, the state is neither, or the labels do not map back to the
// alert's fingerprint; the alert is then left to the caller.
func (e *Evaluator) Restore(ruleID string, labels alert.Labels, state State, since time.Time) bool {
	if state != Pending && state != Firing {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var c *compiled
	for _, x := range e.rules {
		if x.rule.ID == ruleID {
			c = x
			break
		}
	}
	if c == nil {
		return false
	}
	// The series' own labels are the alert's minus what the rule adds.
	sl := labels.Clone()
	delete(sl, "alertname")
	for k := range c.rule.Labels {
		delete(sl, k)
	}
	if len(sl) == 0 {
		sl = nil
	}
	h := e.hashLabels(sl)
	if c.lookup(h, sl) != nil {
		return true
	}
	st := &series{hash: h, labels: sl, state: state, activeAt: since}
	if state == Firing {
		st.firingAt = since
	}
	st.merged, st.fp = mergeLabels(c.rule, sl)
	if st.fp != alert.NewFingerprint(ruleID, labels) {
		return false
	}
	st.next = c.index[h]
	c.index[h] = st
	c.list = append(c.list, st)
	c.gen++
	return true
}

// Reset forgets the state of every series, as a fresh evaluator with the same
// rules would. A replica that takes the lead again calls it before Restore:
// what it kept from an earlier term is stale (the other leader moved on).
func (e *Evaluator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, c := range e.rules {
		if nc, err := compile(c.rule); err == nil {
			e.rules[i] = nc
		}
	}
	e.retired = nil
	e.memo = nil
	e.selKeys = map[*Query]string{}
}
