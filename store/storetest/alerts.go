package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

func testAlertRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Every field set, times with nanoseconds, in a zone other than UTC.
	zone := time.FixedZone("X", 5*3600+1800)
	a := NewAlert("a1", "rt", alert.StateAcknowledged, T0.In(zone))
	ack := T0.Add(time.Hour).In(zone)
	ends := T0.Add(2 * time.Hour)
	a.AcknowledgedAt, a.AcknowledgedBy, a.AckComment = &ack, "alice", "looking"
	a.EndsAt, a.SilencedBy, a.EscalationLevel, a.Sequence = &ends, "sil-1", 2, 7
	MustApply(t, s, NewChange(a))

	got, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "a1"})
	require.NoError(t, err)
	want := a.Clone()
	want.StartedAt, want.UpdatedAt = a.StartedAt.UTC(), a.UpdatedAt.UTC()
	for _, p := range []**time.Time{&want.ActiveAt, &want.AcknowledgedAt, &want.EndsAt, &want.LastNotifiedAt} {
		u := (**p).UTC()
		*p = &u
	}
	require.Equal(t, want, got)
	require.Equal(t, time.UTC, got.StartedAt.Location())

	// Optional fields left nil stay nil.
	b := &alert.Alert{ID: "b1", Fingerprint: "fp-b", State: alert.StatePending, Severity: alert.Info, StartedAt: T0, UpdatedAt: T0}
	MustApply(t, s, store.Change{Alert: b})
	got, err = s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "b1"})
	require.NoError(t, err)
	require.Equal(t, b, got)
}

func testAlertGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := NewAlert("old", "x", alert.StateResolved, T0)
	open := NewAlert("open", "x", alert.StateActive, T0.Add(time.Hour))
	newer := NewAlert("newer", "x", alert.StateResolved, T0.Add(2*time.Hour)) // resolved, but started after the open one
	only := NewAlert("only1", "y", alert.StateResolved, T0)
	latest := NewAlert("only2", "y", alert.StateResolved, T0.Add(time.Hour))
	MustApply(t, s, NewChange(old), NewChange(open), NewChange(newer), NewChange(only), NewChange(latest))

	tests := []struct {
		name string
		key  string
		want string
	}{
		// An id finds its alert, resolved or not.
		{"by id", "old", "old"},
		// A fingerprint prefers the open alert over newer resolved ones.
		{"open by fingerprint", string(open.Fingerprint), "open"},
		// Without an open alert, the latest one with the fingerprint.
		{"latest by fingerprint", string(only.Fingerprint), "only2"},
	}
	for _, tt := range tests {
		got, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: tt.key})
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, got.ID, tt.name)
	}
	_, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "nope"})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testAlertList(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := NewAlert("a", "a", alert.StateActive, T0)
	b := NewAlert("b", "b", alert.StatePending, T0.Add(time.Minute))
	b.Severity, b.RuleID = alert.Critical, "rule-other"
	c := NewAlert("c", "c", alert.StateResolved, T0.Add(2*time.Minute))
	d := NewAlert("d", "a", alert.StateResolved, T0.Add(-time.Minute)) // same fingerprint as a
	MustApply(t, s, NewChange(a), NewChange(b), NewChange(c), NewChange(d))

	tests := []struct {
		name string
		p    store.AlertListParams
		want []string
	}{
		// No filter: every alert, latest start first.
		{"all", store.AlertListParams{}, []string{"c", "b", "a", "d"}},
		// States filter is a set.
		{"open states", store.AlertListParams{States: []alert.State{alert.StateActive, alert.StatePending}}, []string{"b", "a"}},
		// Severity filters exactly.
		{"severity", store.AlertListParams{Severity: alert.Critical}, []string{"b"}},
		// Rule id filters exactly.
		{"rule", store.AlertListParams{RuleID: "rule-other"}, []string{"b"}},
		// Fingerprint returns the series' history.
		{"fingerprint", store.AlertListParams{Fingerprint: a.Fingerprint}, []string{"a", "d"}},
		// Limit keeps the newest.
		{"limit", store.AlertListParams{Limit: 2}, []string{"c", "b"}},
		// Filters combine with AND.
		{"combined", store.AlertListParams{States: []alert.State{alert.StateResolved}, Fingerprint: a.Fingerprint}, []string{"d"}},
	}
	for _, tt := range tests {
		got, err := s.AlertList(ctx, &tt.p)
		require.NoError(t, err, tt.name)
		var gotIDs []string
		for _, a := range got {
			gotIDs = append(gotIDs, a.ID)
		}
		require.Equal(t, tt.want, gotIDs, tt.name)
	}
}

func testAlertCount(t *testing.T, s store.Store) {
	ctx := t.Context()
	n, err := s.AlertCount(ctx)
	require.NoError(t, err)
	require.Zero(t, n[alert.StateActive])
	MustApply(t, s,
		NewChange(NewAlert("a", "a", alert.StateActive, T0)),
		NewChange(NewAlert("b", "b", alert.StateActive, T0)),
		NewChange(NewAlert("c", "c", alert.StateSuppressed, T0)),
		NewChange(NewAlert("d", "d", alert.StateResolved, T0)),
		NewChange(NewAlert("e", "d", alert.StateResolved, T0)))
	n, err = s.AlertCount(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n[alert.StateActive])
	require.Equal(t, 1, n[alert.StateSuppressed])
	require.Equal(t, 2, n[alert.StateResolved])
	require.Zero(t, n[alert.StatePending])
}

func testAlertPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	// r0..r4 resolved at T0+i hours (+1m), one open alert, and r5 resolved
	// long ago but with a queued (unsent) resolution notification.
	var changes []store.Change
	for i, id := range []string{"r0", "r1", "r2", "r3", "r4"} {
		a := NewAlert(id, id, alert.StateResolved, T0.Add(time.Duration(i)*time.Hour))
		c := NewChange(a)
		c.Deliveries = []*store.Delivery{{AlertID: id, Fingerprint: a.Fingerprint, Channel: "ops", At: T0, Outcome: store.OutcomeSilenced}}
		changes = append(changes, c)
	}
	open := NewAlert("open", "open", alert.StateActive, T0.Add(-time.Hour))
	r5 := NewAlert("r5", "r5", alert.StateResolved, T0.Add(-2*time.Hour))
	changes = append(changes, NewChange(open), NewChange(r5, NewNotification(r5, "ops", T0)))
	MustApply(t, s, changes...)
	// r0 has a finished notification, which goes with it.
	r0 := NewAlert("r0", "r0", alert.StateResolved, T0)
	sent := MustApply(t, s, store.Change{Alert: r0, Notifications: []*store.NotificationInsert{NewNotification(r0, "ops", T0)}})
	_, err := s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: []*store.NotificationResult{
		{ID: sent[0].ID, State: store.NotificationSent, Attempts: 1, Thread: "th-r0"},
	}})
	require.NoError(t, err)

	// Before T0+3h, keeping the newest 2 resolved (r4, r3): r0, r1 and r2
	// go; r5 stays because its resolution is still queued.
	n, err := s.AlertPrune(ctx, &store.AlertPruneParams{Before: T0.Add(3 * time.Hour), Keep: 2})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	left, err := s.AlertList(ctx, &store.AlertListParams{})
	require.NoError(t, err)
	var leftIDs []string
	for _, a := range left {
		leftIDs = append(leftIDs, a.ID)
	}
	require.ElementsMatch(t, []string{"r3", "r4", "open", "r5"}, leftIDs)
	tr, err := s.TransitionList(ctx, &store.TransitionListParams{AlertID: "r1"})
	require.NoError(t, err)
	require.Empty(t, tr)
	ds, err := s.DeliveryList(ctx, &store.DeliveryListParams{AlertID: "r1"})
	require.NoError(t, err)
	require.Empty(t, ds)
	ns, err := s.NotificationList(ctx, &store.NotificationListParams{AlertID: "r0"})
	require.NoError(t, err)
	require.Empty(t, ns)
	th, err := s.ThreadGet(ctx, &store.ThreadGetParams{AlertID: "r0", Channel: "ops"})
	require.NoError(t, err)
	require.Empty(t, th)

	// Keep bounds what is deleted even when everything is old enough.
	n, err = s.AlertPrune(ctx, &store.AlertPruneParams{Before: T0.Add(100 * time.Hour), Keep: 1})
	require.NoError(t, err)
	require.Equal(t, 1, n) // r3 goes; r4 is the newest; r5 has a queued record
	_, err = s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "r4"})
	require.NoError(t, err)
	_, err = s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "r5"})
	require.NoError(t, err)
}

func testApplyReturnsNotifications(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := NewAlert("a", "a", alert.StateActive, T0)
	b := NewAlert("b", "b", alert.StateActive, T0)
	na1, na2, nb := NewNotification(a, "ops", T0), NewNotification(a, "pager", T0), NewNotification(b, "ops", T0)
	nb.Failover = []string{"email", "sms"}
	got := MustApply(t, s, NewChange(a, na1, na2), NewChange(b, nb))
	require.Len(t, got, 3)
	require.Less(t, got[0].ID, got[1].ID)
	require.Less(t, got[1].ID, got[2].ID)
	for i, in := range []*store.NotificationInsert{na1, na2, nb} {
		require.Equal(t, in.IdempotencyKey, got[i].IdempotencyKey)
		require.Equal(t, in.Channel, got[i].Channel)
		require.Equal(t, store.NotificationQueued, got[i].State)
	}
	list, err := s.NotificationList(ctx, &store.NotificationListParams{AlertID: "b"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	want := &store.Notification{
		ID: got[2].ID, IdempotencyKey: nb.IdempotencyKey, AlertID: "b", Fingerprint: b.Fingerprint,
		Sequence: 1, Channel: "ops", Event: "alert.active", Priority: nb.Priority, Payload: nb.Payload,
		GroupKey: nb.GroupKey, Failover: []string{"email", "sms"}, State: store.NotificationQueued,
		CreatedAt: T0, NextAttemptAt: T0, UpdatedAt: T0,
	}
	require.Equal(t, want, list[0])
	require.Equal(t, want, got[2])
}

func testApplyUpdatesRow(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := NewAlert("a", "a", alert.StateActive, T0)
	MustApply(t, s, NewChange(a))
	// A change without a transition replaces the row only.
	b := a.Clone()
	b.Value, b.UpdatedAt = 1.5, T0.Add(time.Minute)
	MustApply(t, s, store.Change{Alert: b})
	got, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "a"})
	require.NoError(t, err)
	require.Equal(t, 1.5, got.Value)
	// Resolving the open alert and opening its successor in one batch
	// respects one open alert per fingerprint.
	r := b.Clone()
	r.State, r.Sequence = alert.StateResolved, 2
	next := NewAlert("a2", "a", alert.StateActive, T0.Add(time.Hour))
	MustApply(t, s, NewChange(r), NewChange(next))
	got, err = s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: string(a.Fingerprint)})
	require.NoError(t, err)
	require.Equal(t, "a2", got.ID)
	tr, err := s.TransitionList(ctx, &store.TransitionListParams{AlertID: "a"})
	require.NoError(t, err)
	require.Len(t, tr, 2)
}

func testApplyAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	MustApply(t, s, NewChange(NewAlert("open", "x", alert.StateActive, T0)))
	dup := NewAlert("dup", "x", alert.StateActive, T0.Add(time.Hour)) // a second open alert for x
	ok := NewAlert("ok", "ok", alert.StateActive, T0)
	okDelivery := &store.Delivery{AlertID: "ok", Channel: "ops", At: T0, Outcome: store.OutcomeGrouped}
	seqA := NewAlert("seq", "seq", alert.StateActive, T0)
	tests := []struct {
		name    string
		changes []store.Change
	}{
		// The one-open-alert-per-fingerprint rule fails the second change.
		{"second open alert", []store.Change{
			{Alert: ok, Transition: NewChange(ok).Transition, Notifications: []*store.NotificationInsert{NewNotification(ok, "ops", T0)}, Deliveries: []*store.Delivery{okDelivery}},
			NewChange(dup, NewNotification(dup, "ops", T0)),
		}},
		// A repeated transition (alert, sequence) fails the batch.
		{"repeated transition", []store.Change{
			NewChange(seqA, NewNotification(seqA, "ops", T0)),
			NewChange(seqA.Clone()),
		}},
	}
	for _, tt := range tests {
		_, err := s.Apply(ctx, &store.ApplyParams{Changes: tt.changes})
		require.Error(t, err, tt.name)
		for _, id := range []string{"ok", "dup", "seq"} {
			_, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: id})
			require.ErrorIs(t, err, store.ErrNotFound, tt.name)
		}
		ns, err := s.NotificationList(ctx, &store.NotificationListParams{})
		require.NoError(t, err)
		require.Empty(t, ns, tt.name)
		ds, err := s.DeliveryList(ctx, &store.DeliveryListParams{})
		require.NoError(t, err)
		require.Empty(t, ds, tt.name)
		tr, err := s.TransitionList(ctx, &store.TransitionListParams{AlertID: "ok"})
		require.NoError(t, err)
		require.Empty(t, tr, tt.name)
	}
	// The store still works after a rolled-back batch.
	MustApply(t, s, NewChange(ok))
}

func testTransitionList(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := NewAlert("a", "a", alert.StatePending, T0)
	tr := func(seq int64, from, to alert.State, kind string) *alert.Transition {
		return &alert.Transition{AlertID: "a", Fingerprint: a.Fingerprint, Sequence: seq, From: from, To: to,
			At: T0.Add(time.Duration(seq) * time.Second), Kind: kind, By: "bob", Comment: "c", Value: float64(seq)}
	}
	// Written out of order in one batch; listed by sequence.
	t3, t1, t2 := tr(3, alert.StateActive, alert.StateActive, alert.KindRenotify), tr(1, "", alert.StatePending, ""), tr(2, alert.StatePending, alert.StateActive, "")
	MustApply(t, s, store.Change{Alert: a, Transition: t3}, store.Change{Alert: a, Transition: t1}, store.Change{Alert: a, Transition: t2})
	got, err := s.TransitionList(ctx, &store.TransitionListParams{AlertID: "a"})
	require.NoError(t, err)
	require.Equal(t, []alert.Transition{*t1, *t2, *t3}, got)
	got, err = s.TransitionList(ctx, &store.TransitionListParams{AlertID: "none"})
	require.NoError(t, err)
	require.Empty(t, got)
}

func testSilences(t *testing.T, s store.Store) {
	ctx := t.Context()
	m1, err := alert.NewMatcher("team", alert.MatchRegexp, "d.")
	require.NoError(t, err)
	m2, err := alert.NewMatcher("env", alert.MatchNotEqual, "dev")
	require.NoError(t, err)
	active := &store.Silence{ID: "s1", Matchers: alert.Matchers{m1, m2}, StartsAt: T0, EndsAt: T0.Add(time.Hour),
		CreatedBy: "alice", Comment: "maintenance", CreatedAt: T0, UpdatedAt: T0}
	expired := &store.Silence{ID: "s2", Matchers: alert.Matchers{m2}, StartsAt: T0.Add(-2 * time.Hour),
		EndsAt: T0, CreatedAt: T0.Add(time.Second), UpdatedAt: T0.Add(time.Second)}
	require.NoError(t, s.SilenceUpsert(ctx, active))
	require.NoError(t, s.SilenceUpsert(ctx, expired))

	got, err := s.SilenceGet(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, active.Matchers.Matches(alert.Labels{"team": "db"}), got.Matchers.Matches(alert.Labels{"team": "db"}))
	require.True(t, got.Matchers.Matches(alert.Labels{"team": "db", "env": "prod"}), "matchers compiled")
	require.False(t, got.Matchers.Matches(alert.Labels{"team": "dbx"}))
	require.Equal(t, active.EndsAt, got.EndsAt)
	require.Equal(t, "maintenance", got.Comment)
	_, err = s.SilenceGet(ctx, "none")
	require.ErrorIs(t, err, store.ErrNotFound)

	// EndsAt <= Now is expired.
	list, err := s.SilenceList(ctx, &store.SilenceListParams{Now: T0})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "s1", list[0].ID)
	list, err = s.SilenceList(ctx, &store.SilenceListParams{Now: T0, IncludeExpired: true})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, []string{"s2", "s1"}, []string{list[0].ID, list[1].ID}, "newest first")

	// Upsert replaces.
	changed := *active
	changed.EndsAt, changed.Comment, changed.UpdatedAt = T0, "done early", T0.Add(time.Minute)
	require.NoError(t, s.SilenceUpsert(ctx, &changed))
	got, err = s.SilenceGet(ctx, "s1")
	require.NoError(t, err)
	require.Equal(t, "done early", got.Comment)
	require.Equal(t, T0.Add(time.Minute), got.UpdatedAt)
	list, err = s.SilenceList(ctx, &store.SilenceListParams{Now: T0})
	require.NoError(t, err)
	require.Empty(t, list)
}
