package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testBundle struct {
	m     *Manager
	st    store.Store
	clock *clock
	// enqueued collects what OnEnqueue received.
	mu       sync.Mutex
	enqueued []*store.Notification
}

func (b *testBundle) take() []*store.Notification {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.enqueued
	b.enqueued = nil
	return out
}

func setup(t testing.TB, routes []*Route) *testBundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	b := &testBundle{st: st, clock: &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}}
	b.m, err = New(t.Context(), Options{
		Store: st, Routes: routes, Now: b.clock.now, Owner: "me",
		OnEnqueue: func(n []*store.Notification) { b.mu.Lock(); b.enqueued = append(b.enqueued, n...); b.mu.Unlock() },
	})
	require.NoError(t, err)
	return b
}

func obs(c Condition, v float64) Observation {
	labels := alert.Labels{"alertname": "high_error_rate", "service": "api"}
	th := 0.05
	return Observation{
		RuleID: "high_error_rate", RuleName: "High error rate", Labels: labels,
		Fingerprint: alert.NewFingerprint("high_error_rate", labels), Condition: c, Value: v,
		Threshold: &th, Severity: alert.Critical, Summary: "error rate high",
	}
}

func channelsOf(recs []*store.Notification) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Channel+":"+r.Event)
	}
	return out
}

func TestManager_PendingActiveResolved(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops", "pager"}, Failover: []string{"backup"}}})
	ctx := context.Background()

	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Pending, 0.2)}))
	open := b.m.Open()
	require.Len(t, open, 1)
	require.Equal(t, alert.StatePending, open[0].State)
	require.Empty(t, b.take(), "pending notifies nobody")

	b.clock.add(time.Minute)
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.3)}))
	a := b.m.Open()[0]
	require.Equal(t, alert.StateActive, a.State)
	require.EqualValues(t, 2, a.Sequence)
	require.Equal(t, []string{"ops", "pager"}, a.Channels)
	recs := b.take()
	require.Equal(t, []string{"ops:alert.active", "pager:alert.active"}, channelsOf(recs))
	for _, r := range recs {
		require.Equal(t, notify.IdempotencyKey(a.ID, a.Fingerprint, 2, r.Channel), r.IdempotencyKey)
		require.Equal(t, "me", r.LockedBy, "fresh records are pre-leased to the lifecycle's owner")
		require.Equal(t, []string{"backup"}, r.Failover)
		require.Greater(t, r.Priority, 50)
	}

	// Still firing: no new transition.
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.4)}))
	require.Empty(t, b.take())
	// No data keeps the state.
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(NoData, 0)}))
	require.Len(t, b.m.Open(), 1)

	b.clock.add(time.Minute)
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Inactive, 0.01)}))
	require.Empty(t, b.m.Open())
	require.Equal(t, []string{"ops:alert.resolved", "pager:alert.resolved"}, channelsOf(b.take()))

	got, err := b.m.Get(ctx, string(a.Fingerprint))
	require.NoError(t, err)
	require.Equal(t, alert.StateResolved, got.State)
	trs, err := b.st.TransitionList(ctx, &store.TransitionListParams{AlertID: a.ID})
	require.NoError(t, err)
	require.Len(t, trs, 3)
	require.Equal(t, []alert.State{alert.StatePending, alert.StateActive, alert.StateResolved},
		[]alert.State{trs[0].To, trs[1].To, trs[2].To})

	// Firing again is a new alert with the same fingerprint.
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.5)}))
	again := b.m.Open()[0]
	require.NotEqual(t, a.ID, again.ID)
	require.Equal(t, a.Fingerprint, again.Fingerprint)
	require.EqualValues(t, 1, again.Sequence)
}

func TestManager_PendingClearedQuietly(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Pending, 0.2)}))
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Inactive, 0.0)}))
	require.Empty(t, b.m.Open())
	require.Empty(t, b.take(), "an alert that never fired notifies nobody when it clears")
}

func TestManager_AcknowledgeAndResolve(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	a := b.m.Open()[0]
	b.take()

	acked, err := b.m.Acknowledge(ctx, a.ID, "alice", "looking")
	require.NoError(t, err)
	require.Equal(t, alert.StateAcknowledged, acked.State)
	require.Equal(t, "alice", acked.AcknowledgedBy)
	require.Equal(t, "looking", acked.AckComment)
	require.NotNil(t, acked.AcknowledgedAt)
	require.Equal(t, []string{"ops:alert.acknowledged"}, channelsOf(b.take()))

	// By fingerprint too; resolving tells the channel.
	res, err := b.m.Resolve(ctx, string(a.Fingerprint), "bob", "fixed")
	require.NoError(t, err)
	require.Equal(t, alert.StateResolved, res.State)
	require.Equal(t, []string{"ops:alert.resolved"}, channelsOf(b.take()))

	_, err = b.m.Acknowledge(ctx, a.ID, "alice", "")
	require.ErrorIs(t, err, ErrInvalidTransition)
	_, err = b.m.Acknowledge(ctx, "nope", "alice", "")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestManager_Silences(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	m, err := alert.NewMatcher("service", alert.MatchEqual, "api")
	require.NoError(t, err)
	sil, err := b.m.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{m}, EndsAt: b.clock.now().Add(time.Hour), CreatedBy: "ops"})
	require.NoError(t, err)

	// A firing alert under a silence is suppressed and notifies nobody, but
	// the decision is logged.
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	a := b.m.Open()[0]
	require.Equal(t, alert.StateSuppressed, a.State)
	require.Equal(t, sil.ID, a.SilencedBy)
	require.Empty(t, b.take())
	log, err := b.st.DeliveryList(ctx, &store.DeliveryListParams{AlertID: a.ID})
	require.NoError(t, err)
	require.Len(t, log, 1)
	require.Equal(t, store.OutcomeSilenced, log[0].Outcome)

	// Expiring the silence activates it, which notifies.
	_, err = b.m.ExpireSilence(ctx, sil.ID)
	require.NoError(t, err)
	require.Equal(t, alert.StateActive, b.m.Open()[0].State)
	require.Equal(t, []string{"ops:alert.active"}, channelsOf(b.take()))

	// Silenced again, then it resolves: the channel told it fired hears.
	_, err = b.m.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{m}, EndsAt: b.clock.now().Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, alert.StateSuppressed, b.m.Open()[0].State)
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Inactive, 0)}))
	require.Equal(t, []string{"ops:alert.resolved"}, channelsOf(b.take()))
	trs, err := b.st.TransitionList(ctx, &store.TransitionListParams{AlertID: a.ID})
	require.NoError(t, err)
	require.Equal(t, alert.StateResolved, trs[len(trs)-1].To)
	require.Equal(t, alert.StateSuppressed, trs[len(trs)-1].From)

	// A silence that ends by time also reactivates on Tick.
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	require.Equal(t, alert.StateSuppressed, b.m.Open()[0].State)
	b.clock.add(2 * time.Hour)
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, alert.StateActive, b.m.Open()[0].State)
}

func TestManager_RenotifyAndEscalate(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{
		Notify: []string{"ops"}, RepeatInterval: time.Hour,
		Escalate: []Escalation{{After: 10 * time.Minute, Notify: []string{"pager"}}, {After: 30 * time.Minute, Notify: []string{"cto"}}},
	}})
	ctx := context.Background()
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	b.take()

	b.clock.add(9 * time.Minute)
	require.NoError(t, b.m.Tick(ctx))
	require.Empty(t, b.take(), "nothing due before the first step")

	b.clock.add(time.Minute)
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, []string{"pager:alert.escalated"}, channelsOf(b.take()))
	a := b.m.Open()[0]
	require.Equal(t, 1, a.EscalationLevel)
	require.Equal(t, []string{"ops", "pager"}, a.Channels)

	b.clock.add(20 * time.Minute)
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, []string{"cto:alert.escalated"}, channelsOf(b.take()))

	b.clock.add(30 * time.Minute)
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, []string{"ops:alert.renotify", "pager:alert.renotify", "cto:alert.renotify"}, channelsOf(b.take()))

	// After acknowledgement nothing repeats.
	_, err := b.m.Acknowledge(ctx, a.ID, "alice", "")
	require.NoError(t, err)
	b.take()
	b.clock.add(3 * time.Hour)
	require.NoError(t, b.m.Tick(ctx))
	require.Empty(t, b.take())
}

func TestManager_AcknowledgedDoesNotEscalate(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}, Escalate: []Escalation{{After: time.Minute, Notify: []string{"pager"}}}}})
	ctx := context.Background()
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	_, err := b.m.Acknowledge(ctx, b.m.Open()[0].ID, "alice", "")
	require.NoError(t, err)
	b.take()
	b.clock.add(time.Hour)
	require.NoError(t, b.m.Tick(ctx))
	require.Empty(t, b.take())
}

func TestManager_Push(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	labels := alert.Labels{"alertname": "disk_full", "host": "db1"}
	res, err := b.m.Push(ctx, []Pushed{{Labels: labels, Severity: alert.High, Summary: "disk full"}})
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, alert.NewFingerprint("", labels), res[0].Fingerprint)
	require.Equal(t, alert.StateActive, res[0].State)
	require.Equal(t, []string{"ops:alert.active"}, channelsOf(b.take()))

	// Posting again changes only the end time.
	b.clock.add(time.Minute)
	res2, err := b.m.Push(ctx, []Pushed{{Labels: labels, Severity: alert.High}})
	require.NoError(t, err)
	require.Equal(t, res[0].ID, res2[0].ID)
	require.Empty(t, b.take())
	a := b.m.Open()[0]
	require.EqualValues(t, 1, a.Sequence)
	require.Equal(t, b.clock.now().Add(5*time.Minute), *a.EndsAt)
	log, err := b.st.DeliveryList(ctx, &store.DeliveryListParams{AlertID: a.ID})
	require.NoError(t, err)
	require.Equal(t, store.OutcomeDeduplicated, log[0].Outcome, "the decision not to notify again is logged")

	// Without a new post, it resolves after resolve_timeout.
	b.clock.add(5 * time.Minute)
	require.NoError(t, b.m.Tick(ctx))
	require.Empty(t, b.m.Open())
	require.Equal(t, []string{"ops:alert.resolved"}, channelsOf(b.take()))

	// status resolved resolves at once.
	_, err = b.m.Push(ctx, []Pushed{{Labels: labels}})
	require.NoError(t, err)
	b.take()
	_, err = b.m.Push(ctx, []Pushed{{Labels: labels, Resolved: true}})
	require.NoError(t, err)
	require.Empty(t, b.m.Open())
	require.Equal(t, []string{"ops:alert.resolved"}, channelsOf(b.take()))

	_, err = b.m.Push(ctx, []Pushed{{}})
	require.ErrorContains(t, err, "alerts[0].labels")
}

// A request may name one alert more than once: each entry acts on what the
// ones before it left, as if posted one after the other.
func TestManager_PushSameAlertTwiceInOneRequest(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	labels := alert.Labels{"alertname": "disk_full", "host": "db1"}

	res, err := b.m.Push(ctx, []Pushed{{Labels: labels, Summary: "first"}, {Labels: labels, Summary: "second"}})
	require.NoError(t, err)
	require.Equal(t, res[0].ID, res[1].ID, "the second entry refreshes the alert the first one opened")
	require.Equal(t, alert.StateActive, res[1].State)
	require.Equal(t, []string{"ops:alert.active"}, channelsOf(b.take()), "notified once")
	open := b.m.Open()
	require.Len(t, open, 1)
	require.Equal(t, "second", open[0].Summary)
	stored, err := b.st.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: res[0].ID})
	require.NoError(t, err)
	require.Equal(t, "second", stored.Summary)

	// Firing and resolved in one request: opened, then resolved.
	other := alert.Labels{"alertname": "cpu_hot", "host": "db1"}
	res, err = b.m.Push(ctx, []Pushed{{Labels: other}, {Labels: other, Resolved: true}})
	require.NoError(t, err)
	require.Equal(t, alert.StateResolved, res[1].State)
	require.Equal(t, []string{"ops:alert.active", "ops:alert.resolved"}, channelsOf(b.take()))
	require.Len(t, b.m.Open(), 1)
	trs, err := b.st.TransitionList(ctx, &store.TransitionListParams{AlertID: res[0].ID})
	require.NoError(t, err)
	require.Len(t, trs, 2)
	require.EqualValues(t, 2, trs[1].Sequence)

	// Resolved, then firing again: a new alert instance.
	res, err = b.m.Push(ctx, []Pushed{{Labels: labels, Resolved: true}, {Labels: labels}})
	require.NoError(t, err)
	require.NotEqual(t, res[0].ID, res[1].ID)
	require.Equal(t, []string{"ops:alert.resolved", "ops:alert.active"}, channelsOf(b.take()))
	open = b.m.Open()
	require.Len(t, open, 1)
	require.Equal(t, res[1].ID, open[0].ID)
}

// Concurrent pushes share commits; each caller still gets the results of
// its own alerts, in its own order.
func TestManager_PushConcurrentCallersGetTheirOwnResults(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	const callers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for c := range callers {
		wg.Go(func() {
			in := make([]Pushed, each)
			for i := range in {
				in[i] = Pushed{Labels: alert.Labels{"alertname": "load", "caller": fmt.Sprint(c), "i": fmt.Sprint(i)}}
			}
			res, err := b.m.Push(ctx, in)
			if err != nil {
				errs <- err
				return
			}
			if len(res) != each {
				errs <- fmt.Errorf("caller %d: %d results for %d alerts", c, len(res), each)
				return
			}
			for i, r := range res {
				if want := alert.NewFingerprint("", in[i].Labels); r.Fingerprint != want || r.State != alert.StateActive {
					errs <- fmt.Errorf("caller %d result %d: %+v, want fingerprint %s active", c, i, r, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Len(t, b.m.Open(), callers*each)
	require.Len(t, b.take(), callers*each, "one notification per alert")

	// A post with a bad entry fails alone, before it joins a commit.
	_, err := b.m.Push(ctx, []Pushed{{Labels: alert.Labels{"a": "b"}}, {}})
	require.ErrorContains(t, err, "alerts[1].labels")
	require.Len(t, b.m.Open(), callers*each)
}

// Records handed to the dispatcher share the committed alert; later
// evaluations replace the alert in memory instead of changing it, so a
// notification on its way keeps what the transition saw.
func TestManager_HandedOverEventDoesNotChange(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.3)}))
	recs := b.take()
	require.Len(t, recs, 1)
	src, ok := recs[0].Decoded.(notify.EventSource)
	require.True(t, ok, "the record carries its decoded event")
	ev, err := src.AlertEvent()
	require.NoError(t, err)
	require.Nil(t, recs[0].Payload, "memory holds one form of the payload")
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.9)}))
	require.InDelta(t, 0.3, ev.Value, 1e-9)
	require.InDelta(t, 0.9, b.m.Open()[0].Value, 1e-9)
	stored, err := b.st.NotificationList(ctx, &store.NotificationListParams{AlertID: ev.ID})
	require.NoError(t, err)
	require.JSONEq(t, string(mustJSON(t, ev)), string(stored[0].Payload), "the stored payload is the same event")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// A panic while applying a group of posts fails every post of the group and
// leaves the manager usable.
func TestManager_PushPanicReleasesTheGroup(t *testing.T) {
	t.Parallel()
	m, _ := groupManager(t, explodeOnBoom)
	ctx := context.Background()

	// Queue a second post behind the one that panics, as a concurrent
	// caller would, then lead the group.
	other := &pushReq{in: []Pushed{{Labels: alert.Labels{"alertname": "fine"}}}, done: make(chan struct{})}
	m.pushQ = append(m.pushQ, other)
	func() {
		defer func() { require.NotNil(t, recover(), "the leader's own call panics") }()
		_, _ = m.Push(ctx, []Pushed{{Labels: alert.Labels{"alertname": "bad", "boom": "1"}}})
	}()
	<-other.done
	require.ErrorContains(t, other.err, "internal error: template exploded")

	res, err := m.Push(ctx, []Pushed{{Labels: alert.Labels{"alertname": "fine"}}})
	require.NoError(t, err, "the lock was released")
	require.Equal(t, alert.StateActive, res[0].State)
	require.Len(t, m.Open(), 1, "nothing of the failed group was applied")
}

// A commit brings the next full scan forward to the timers of what it
// changed: an alert posted after a scan still ends, escalates and repeats
// on time, though Tick does not look at every open alert after each change.
func TestManager_TickTimersOfLaterChanges(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}, RepeatInterval: time.Hour,
		Escalate: []Escalation{{After: 5 * time.Minute, Notify: []string{"pager"}}}}})
	ctx := context.Background()
	now := b.clock.now()
	_, err := b.m.Push(ctx, []Pushed{{Labels: alert.Labels{"alertname": "slow"}, EndsAt: now.Add(2 * time.Hour)}})
	require.NoError(t, err)
	require.NoError(t, b.m.Tick(ctx)) // scans; nothing due for 5 minutes
	b.take()

	b.clock.add(time.Minute)
	_, err = b.m.Push(ctx, []Pushed{{Labels: alert.Labels{"alertname": "brief"}, EndsAt: b.clock.now().Add(30 * time.Second)}})
	require.NoError(t, err)
	b.take()

	b.clock.add(31 * time.Second)
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, []string{"ops:alert.resolved"}, channelsOf(b.take()), "the later alert ended on time")
	require.Len(t, b.m.Open(), 1)

	b.clock.add(4 * time.Minute) // 5m31s after the first alert fired
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, []string{"pager:alert.escalated"}, channelsOf(b.take()), "the first alert escalated on time")
}

func TestManager_RoutingAndGrouping(t *testing.T) {
	t.Parallel()
	team, _ := alert.NewMatcher("team", alert.MatchEqual, "db")
	b := setup(t, []*Route{
		{Severities: []alert.Severity{alert.Critical}, Notify: []string{"pager"}, Continue: true},
		{Matchers: alert.Matchers{team}, Notify: []string{"db-slack"}, GroupBy: []string{"team"}, GroupWait: 30 * time.Second},
		{Notify: []string{"ops"}},
	})
	ctx := context.Background()
	_, err := b.m.Push(ctx, []Pushed{
		{Labels: alert.Labels{"alertname": "a", "team": "db"}, Severity: alert.Critical},
		{Labels: alert.Labels{"alertname": "b", "team": "db"}, Severity: alert.Low},
		{Labels: alert.Labels{"alertname": "c", "team": "web"}, Severity: alert.Low},
	})
	require.NoError(t, err)
	recs := b.take()
	require.Equal(t, []string{"pager:alert.active", "db-slack:alert.active", "db-slack:alert.active", "ops:alert.active"}, channelsOf(recs))
	// Both db alerts share one group and one send time, 30s away, and are
	// therefore not pre-leased.
	require.Equal(t, recs[1].GroupKey, recs[2].GroupKey)
	require.NotEmpty(t, recs[1].GroupKey)
	require.Equal(t, b.clock.now().Add(30*time.Second), recs[1].NextAttemptAt)
	require.Equal(t, recs[1].NextAttemptAt, recs[2].NextAttemptAt)
	require.Empty(t, recs[1].LockedBy)
	require.Equal(t, "me", recs[0].LockedBy)
}

func TestManager_ReloadKeepsState(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	m, _ := alert.NewMatcher("host", alert.MatchEqual, "x")
	_, err := b.m.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{m}, EndsAt: b.clock.now().Add(time.Hour)})
	require.NoError(t, err)

	m2, err := New(ctx, Options{Store: b.st, Now: b.clock.now})
	require.NoError(t, err)
	require.Equal(t, b.m.Open(), m2.Open())
	sils, err := m2.Silences(ctx, false)
	require.NoError(t, err)
	require.Len(t, sils, 1)
}
