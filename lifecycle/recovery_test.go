package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// Silence boundaries that pass while no process leads are applied by the
// next leader's first Tick: a silence that ended lets its alert notify, one
// that started suppresses its alert.
func TestManager_SilenceBoundariesPassedWhileDown(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	api, err := alert.NewMatcher("service", alert.MatchEqual, "api")
	require.NoError(t, err)
	_, err = b.m.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{api}, EndsAt: b.clock.now().Add(time.Hour)})
	require.NoError(t, err)
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	require.Equal(t, alert.StateSuppressed, b.m.Open()[0].State)
	b.take()

	// Down for two hours; the silence ended meanwhile.
	b.clock.add(2 * time.Hour)
	var enqueued []*store.Notification
	m2, err := New(ctx, Options{Store: b.st, Routes: []*Route{{Notify: []string{"ops"}}}, Now: b.clock.now, Owner: "me",
		OnEnqueue: func(n []*store.Notification) { enqueued = append(enqueued, n...) }})
	require.NoError(t, err)
	require.NoError(t, m2.Tick(ctx))
	require.Equal(t, alert.StateActive, m2.Open()[0].State)
	require.Equal(t, []string{"ops:alert.active"}, channelsOf(enqueued))

	// A silence set to start later starts while down: the alert is
	// suppressed at the next leader's first Tick.
	start := b.clock.now().Add(10 * time.Minute)
	_, err = m2.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{api}, StartsAt: start, EndsAt: start.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, alert.StateActive, m2.Open()[0].State)
	b.clock.add(20 * time.Minute)
	m3, err := New(ctx, Options{Store: b.st, Routes: []*Route{{Notify: []string{"ops"}}}, Now: b.clock.now, Owner: "me"})
	require.NoError(t, err)
	require.NoError(t, m3.Tick(ctx))
	require.Equal(t, alert.StateSuppressed, m3.Open()[0].State)
}

// A write that fails at a silence's end does not lose the boundary: the
// next Tick applies it.
func TestManager_SilenceEndSurvivesAFailedWrite(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	fs := &storetest.FaultyStore{Store: b.st}
	ctx := context.Background()
	m, err := New(ctx, Options{Store: fs, Routes: []*Route{{Notify: []string{"ops"}}}, Now: b.clock.now, Owner: "me"})
	require.NoError(t, err)
	api, err := alert.NewMatcher("service", alert.MatchEqual, "api")
	require.NoError(t, err)
	_, err = m.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{api}, EndsAt: b.clock.now().Add(time.Hour)})
	require.NoError(t, err)
	require.NoError(t, m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	require.Equal(t, alert.StateSuppressed, m.Open()[0].State)

	b.clock.add(2 * time.Hour)
	fs.Fail.Store(true)
	require.Error(t, m.Tick(ctx))
	fs.Fail.Store(false)
	b.clock.add(time.Second)
	require.NoError(t, m.Tick(ctx))
	require.Equal(t, alert.StateActive, m.Open()[0].State)
}

// Two series a rule's labels make identical share one alert: the firing
// one speaks for it, and the cycle's other changes are written.
func TestManager_TwoSeriesOneFingerprint(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	other := obs(Firing, 1)
	other.RuleID, other.Labels = "disk", alert.Labels{"alertname": "disk"}
	other.Fingerprint = alert.NewFingerprint("disk", other.Labels)
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Inactive, 0), obs(Firing, 0.2), other, obs(Pending, 0.1)}))
	open := b.m.Open()
	require.Len(t, open, 2)
	for _, a := range open {
		require.Equal(t, alert.StateActive, a.State, a.RuleID)
	}
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.3), obs(Firing, 0.4)}))
	require.Len(t, b.m.Open(), 2)
}

// A rule's own channels reach an alert restored after a restart: it fires
// to them, not to the routes.
func TestManager_RuleChannelsAfterRestart(t *testing.T) {
	t.Parallel()
	routes := []*Route{{Notify: []string{"ops"}}}
	b := setup(t, routes)
	ctx := context.Background()
	o := obs(Pending, 0.2)
	o.Channels = []string{"dba"}
	require.NoError(t, b.m.Observe(ctx, []Observation{o}))
	require.Equal(t, alert.StatePending, b.m.Open()[0].State)

	var enqueued []*store.Notification
	m2, err := New(ctx, Options{Store: b.st, Routes: routes, Now: b.clock.now, Owner: "me",
		OnEnqueue: func(n []*store.Notification) { enqueued = append(enqueued, n...) }})
	require.NoError(t, err)
	o.Condition = Firing
	require.NoError(t, m2.Observe(ctx, []Observation{o}))
	require.Equal(t, []string{"dba:alert.active"}, channelsOf(enqueued))
}

// A silence that ends lets escalation start over from then: each step gets
// its time for an acknowledgement instead of every overdue step at once.
func TestManager_EscalationAfterASilenceCountsFromItsEnd(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{
		Notify:   []string{"ops"},
		Escalate: []Escalation{{After: 10 * time.Minute, Notify: []string{"pager"}}, {After: 30 * time.Minute, Notify: []string{"cto"}}},
	}})
	ctx := context.Background()
	require.NoError(t, b.m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	api, err := alert.NewMatcher("service", alert.MatchEqual, "api")
	require.NoError(t, err)
	b.clock.add(time.Minute)
	_, err = b.m.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{api}, EndsAt: b.clock.now().Add(2 * time.Hour)})
	require.NoError(t, err)
	b.take()

	b.clock.add(2*time.Hour + time.Second)
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, []string{"ops:alert.active"}, channelsOf(b.take()))
	for range 3 {
		b.clock.add(time.Second)
		require.NoError(t, b.m.Tick(ctx))
	}
	require.Empty(t, b.take(), "no step is due yet")
	b.clock.add(10 * time.Minute)
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, []string{"pager:alert.escalated"}, channelsOf(b.take()))
}

// A series that fires, resolves and fires again gets notification keys of
// its own the second time, though both alerts' sequences start at 1.
func TestManager_RefiringSeriesHasNewKeys(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	keys := map[string]bool{}
	for _, c := range []Condition{Firing, Inactive, Firing, Inactive} {
		require.NoError(t, b.m.Observe(ctx, []Observation{obs(c, 0.2)}))
		for _, r := range b.take() {
			require.False(t, keys[r.IdempotencyKey], "key %s used twice", r.IdempotencyKey)
			keys[r.IdempotencyKey] = true
		}
	}
	require.Len(t, keys, 4)
}

// A write that committed although it reported failure does not wedge the
// lifecycle: memory is reloaded, and the next cycle carries on from what
// the store holds.
func TestManager_AmbiguousCommitDoesNotWedge(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	as := &storetest.FaultyStore{Store: b.st}
	ctx := context.Background()
	m, err := New(ctx, Options{Store: as, Routes: []*Route{{Notify: []string{"ops"}}}, Now: b.clock.now, Owner: "me"})
	require.NoError(t, err)
	as.CommitThenFail.Store(true)
	require.Error(t, m.Observe(ctx, []Observation{obs(Firing, 0.2)}))
	// The alert was written: memory knows it now.
	require.Len(t, m.Open(), 1)
	require.Equal(t, alert.StateActive, m.Open()[0].State)

	other := obs(Firing, 1)
	other.RuleID, other.Labels = "disk", alert.Labels{"alertname": "disk"}
	other.Fingerprint = alert.NewFingerprint("disk", other.Labels)
	for range 3 {
		b.clock.add(time.Second)
		require.NoError(t, m.Observe(ctx, []Observation{obs(Firing, 0.3), other}))
	}
	require.Len(t, m.Open(), 2)
	b.clock.add(time.Second)
	require.NoError(t, m.Observe(ctx, []Observation{obs(Inactive, 0)}))
	require.Len(t, m.Open(), 1)
}

// group_interval: the first alert of a group leaves at once (group_wait 0);
// alerts that join within group_interval of the group's last notification
// wait for it together; a quiet group starts afresh.
func TestManager_GroupInterval(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}, GroupBy: []string{"service"}, GroupInterval: 5 * time.Minute}})
	ctx := context.Background()
	t0 := b.clock.now()
	push := func(name, service string) *store.Notification {
		t.Helper()
		_, err := b.m.Push(ctx, []Pushed{{Labels: alert.Labels{"alertname": name, "service": service}, Severity: alert.Critical}})
		require.NoError(t, err)
		var active []*store.Notification
		for _, r := range b.take() {
			if r.Event == string(notify.EventActive) {
				active = append(active, r)
			}
		}
		require.Len(t, active, 1)
		return active[0]
	}
	first := push("a", "api")
	require.Equal(t, t0, first.NextAttemptAt, "a new group's first alert leaves at once")
	require.Equal(t, "me", first.LockedBy)

	b.clock.add(time.Minute)
	second := push("b", "api")
	b.clock.add(time.Minute)
	third := push("c", "api")
	require.Equal(t, t0.Add(5*time.Minute), second.NextAttemptAt)
	require.Equal(t, second.NextAttemptAt, third.NextAttemptAt, "they go together")
	require.Empty(t, second.LockedBy)
	require.Equal(t, t0, push("x", "web").NextAttemptAt.Add(-2*time.Minute), "another group is not held")

	b.clock.add(5 * time.Minute) // t0+7m: the group last spoke at t0+5m
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, t0.Add(10*time.Minute), push("d", "api").NextAttemptAt)

	b.clock.add(time.Hour)
	require.NoError(t, b.m.Tick(ctx))
	require.Equal(t, b.clock.now(), push("e", "api").NextAttemptAt, "a quiet group starts afresh")
}

// A pushed alert's own channels reach it again after a restart once it is
// posted again: when a silence over it ends, it fires to them, not to the
// routes.
func TestManager_PushedChannelsAfterRestart(t *testing.T) {
	t.Parallel()
	routes := []*Route{{Notify: []string{"ops"}}}
	b := setup(t, routes)
	ctx := context.Background()
	host, err := alert.NewMatcher("host", alert.MatchEqual, "db1")
	require.NoError(t, err)
	_, err = b.m.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{host}, EndsAt: b.clock.now().Add(time.Hour)})
	require.NoError(t, err)
	p := Pushed{Labels: alert.Labels{"alertname": "DiskFull", "host": "db1"}, Severity: alert.High,
		Channels: []string{"dba"}, EndsAt: b.clock.now().Add(24 * time.Hour)}
	_, err = b.m.Push(ctx, []Pushed{p})
	require.NoError(t, err)
	require.Equal(t, alert.StateSuppressed, b.m.Open()[0].State)
	require.Empty(t, b.take())

	var enqueued []*store.Notification
	m2, err := New(ctx, Options{Store: b.st, Routes: routes, Now: b.clock.now, Owner: "me",
		OnEnqueue: func(n []*store.Notification) { enqueued = append(enqueued, n...) }})
	require.NoError(t, err)
	b.clock.add(time.Minute)
	_, err = m2.Push(ctx, []Pushed{p})
	require.NoError(t, err)
	require.Empty(t, enqueued, "posted again while silenced: nobody notified")

	b.clock.add(time.Hour)
	require.NoError(t, m2.Tick(ctx))
	require.Equal(t, alert.StateActive, m2.Open()[0].State)
	require.Equal(t, []string{"dba:alert.active"}, channelsOf(enqueued), "fires to the alert's own channels")
}
