// Package storetest is the conformance suite every store backend runs, and
// fixtures for other packages' tests.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// T0 is the suite's reference time. It has nanoseconds, so backends must
// keep them.
var T0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// Run runs every conformance test. open must return a fresh, empty store
// and close it with t.Cleanup; it is called once per subtest, in parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"AlertRoundTrip", testAlertRoundTrip},
		{"AlertGet", testAlertGet},
		{"AlertList", testAlertList},
		{"AlertCount", testAlertCount},
		{"AlertPrune", testAlertPrune},
		{"ApplyReturnsNotifications", testApplyReturnsNotifications},
		{"ApplyUpdatesRow", testApplyUpdatesRow},
		{"ApplyAtomic", testApplyAtomic},
		{"TransitionList", testTransitionList},
		{"Silences", testSilences},
		{"ClaimOrder", testClaimOrder},
		{"ClaimFilters", testClaimFilters},
		{"ClaimLease", testClaimLease},
		{"ClaimPreLeased", testClaimPreLeased},
		{"ExtendLease", testExtendLease},
		{"Finish", testFinish},
		{"FinishUnknown", testFinishUnknown},
		{"FinishLargeBatch", testFinishLargeBatch},
		{"NotificationEarlier", testNotificationEarlier},
		{"NotificationList", testNotificationList},
		{"NotificationStats", testNotificationStats},
		{"Deliveries", testDeliveries},
		{"ConcurrentClaims", testConcurrentClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// NewAlert returns an alert with every field set, as a rule would open it:
// id, a fingerprint derived from name, the given state, started at at.
// Resolved alerts get ResolvedAt = at + 1m.
func NewAlert(id, name string, state alert.State, at time.Time) *alert.Alert {
	threshold := 0.9
	active := at.Add(time.Second)
	a := &alert.Alert{
		ID:             id,
		Fingerprint:    alert.NewFingerprint("rule-"+name, alert.Labels{"name": name}),
		RuleID:         "rule-" + name,
		RuleName:       "Rule " + name,
		State:          state,
		Severity:       alert.High,
		Summary:        "summary of " + name,
		Description:    "description of " + name,
		Labels:         alert.Labels{"name": name, "team": "db"},
		Annotations:    map[string]string{"runbook": "https://runbooks/" + name},
		Value:          0.95,
		Threshold:      &threshold,
		Source:         "rule",
		Metadata:       map[string]string{"provider": "test"},
		StartedAt:      at,
		UpdatedAt:      at.Add(2 * time.Second),
		ActiveAt:       &active,
		LastNotifiedAt: &active,
		Channels:       []string{"ops", "pager"},
		Sequence:       1,
	}
	if state == alert.StateResolved {
		r := at.Add(time.Minute)
		a.ResolvedAt = &r
	}
	return a
}

// NewNotification returns a queued record for a's latest transition on
// channel, created (and due) at at.
func NewNotification(a *alert.Alert, channel string, at time.Time) *store.NotificationInsert {
	return &store.NotificationInsert{
		IdempotencyKey: fmt.Sprintf("%s:%d:%s", a.Fingerprint, a.Sequence, channel),
		AlertID:        a.ID,
		Fingerprint:    a.Fingerprint,
		Sequence:       a.Sequence,
		Channel:        channel,
		Event:          "alert.active",
		Priority:       int(a.Severity)*10 + 1,
		Payload:        []byte(`{"alert":"` + a.ID + `"}`),
		GroupKey:       "group-" + string(a.Fingerprint),
		CreatedAt:      at,
		NextAttemptAt:  at,
	}
}

// NewChange returns a change that writes a with a transition to its state
// (sequence a.Sequence) at a.UpdatedAt, and the given notifications.
func NewChange(a *alert.Alert, ns ...*store.NotificationInsert) store.Change {
	return store.Change{
		Alert: a,
		Transition: &alert.Transition{
			AlertID: a.ID, Fingerprint: a.Fingerprint, Sequence: a.Sequence,
			To: a.State, At: a.UpdatedAt, By: "evaluator", Value: a.Value,
		},
		Notifications: ns,
	}
}

// MustApply applies changes and fails the test on error.
func MustApply(tb testing.TB, s store.Store, changes ...store.Change) []*store.Notification {
	tb.Helper()
	ns, err := s.Apply(context.Background(), &store.ApplyParams{Changes: changes})
	require.NoError(tb, err)
	return ns
}

// MustApplyBacklog queues batches x 500 records due at T0, alternately for
// channels ops and mail, one open alert each: a receiver's backlog after
// an outage, for benchmarks of claims and counts.
func MustApplyBacklog(tb testing.TB, s store.Store, batches int) {
	tb.Helper()
	for k := range batches {
		changes := make([]store.Change, 0, 500)
		for i := range 500 {
			a := NewAlert(fmt.Sprintf("a%d-%d", k, i), fmt.Sprintf("n%d-%d", k, i), alert.StateActive, T0)
			ch := "ops"
			if i%2 == 1 {
				ch = "mail"
			}
			changes = append(changes, NewChange(a, NewNotification(a, ch, T0)))
		}
		MustApply(tb, s, changes...)
	}
}

// enqueue applies one open alert per notification spec: channel and
// priority, due at at. It returns the inserted records in order.
func enqueue(t *testing.T, s store.Store, at time.Time, specs ...spec) []*store.Notification {
	t.Helper()
	var changes []store.Change
	for i, sp := range specs {
		a := NewAlert(fmt.Sprintf("q-%s-%d-%d", sp.channel, at.UnixNano(), i), fmt.Sprintf("q%d-%d", at.UnixNano(), i), alert.StateActive, at)
		n := NewNotification(a, sp.channel, at)
		n.Priority = sp.priority
		changes = append(changes, NewChange(a, n))
	}
	return MustApply(t, s, changes...)
}

type spec struct {
	channel  string
	priority int
}

func ids(ns []*store.Notification) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}
