package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

func claim(t *testing.T, s store.Store, channel string, limit int, now time.Time, owner string) []*store.Notification {
	t.Helper()
	ns, err := s.NotificationClaim(t.Context(), &store.NotificationClaimParams{
		Channel: channel, Limit: limit, Now: now, LeaseUntil: now.Add(time.Minute), Owner: owner,
	})
	require.NoError(t, err)
	return ns
}

func testClaimOrder(t *testing.T, s store.Store) {
	in := enqueue(t, s, T0, spec{"ops", 10}, spec{"ops", 50}, spec{"pager", 99}, spec{"ops", 50}, spec{"ops", 20})
	// Not yet due: never claimed before its NextAttemptAt.
	later := enqueue(t, s, T0.Add(time.Hour), spec{"ops", 100})

	require.Empty(t, claim(t, s, "ops", 10, T0.Add(-time.Nanosecond), "w"), "nothing due yet")
	got := claim(t, s, "ops", 3, T0, "w1")
	require.Equal(t, []int64{in[1].ID, in[3].ID, in[4].ID}, ids(got), "priority, then id")
	for _, n := range got {
		require.Equal(t, "w1", n.LockedBy)
		require.Equal(t, T0.Add(time.Minute), n.LockedUntil)
		require.Equal(t, store.NotificationQueued, n.State)
	}
	// All channels when Channel is empty.
	got = claim(t, s, "", 10, T0, "w2")
	require.Equal(t, []int64{in[2].ID, in[0].ID}, ids(got))
	// Due exactly at NextAttemptAt; by then the first leases (one minute)
	// have expired, so those rows are claimable again, in the same order.
	got = claim(t, s, "ops", 10, T0.Add(time.Hour), "w3")
	require.Equal(t, []int64{later[0].ID, in[1].ID, in[3].ID, in[4].ID, in[0].ID}, ids(got))
}

// testClaimFilters checks the filters a dispatcher holding its fill of a
// channel in memory claims with: records at least so urgent, records with a
// failover chain, records of channels it does not run.
func testClaimFilters(t *testing.T, s store.Store) {
	var changes []store.Change
	for i, sp := range []struct {
		channel  string
		priority int
		failover []string
	}{
		{"ops", 15, nil}, {"ops", 55, nil}, {"ops", 15, []string{"email"}},
		{"pager", 55, nil}, {"gone", 15, nil}, {"old", 35, []string{"ops"}},
	} {
		a := NewAlert(fmt.Sprintf("cf-%d", i), fmt.Sprintf("cf%d", i), alert.StateActive, T0)
		n := NewNotification(a, sp.channel, T0)
		n.Priority, n.Failover = sp.priority, sp.failover
		changes = append(changes, NewChange(a, n))
	}
	in := MustApply(t, s, changes...)
	claimWith := func(p store.NotificationClaimParams) []int64 {
		t.Helper()
		p.Limit, p.Now, p.LeaseUntil, p.Owner = 10, T0, T0.Add(time.Minute), "w"
		ns, err := s.NotificationClaim(t.Context(), &p)
		require.NoError(t, err)
		// Release them, so each claim below sees every record.
		require.NoError(t, s.NotificationExtendLease(t.Context(), &store.NotificationExtendLeaseParams{
			IDs: ids(ns), Owner: "w", LeaseUntil: time.Time{}}))
		return ids(ns)
	}
	require.Equal(t, []int64{in[1].ID}, claimWith(store.NotificationClaimParams{Channel: "ops", MinPriority: 16}),
		"only what is at least MinPriority urgent")
	require.Equal(t, []int64{in[1].ID, in[3].ID}, claimWith(store.NotificationClaimParams{MinPriority: 55}))
	require.Equal(t, []int64{in[2].ID}, claimWith(store.NotificationClaimParams{Channel: "ops", FailoverOnly: true}),
		"only records with a failover chain")
	require.Equal(t, []int64{in[5].ID, in[2].ID}, claimWith(store.NotificationClaimParams{FailoverOnly: true}))
	require.Equal(t, []int64{in[5].ID, in[4].ID},
		claimWith(store.NotificationClaimParams{ExceptChannels: []string{"ops", "pager"}}),
		"records of the channels left out are not taken")
	require.Equal(t, []int64{in[5].ID},
		claimWith(store.NotificationClaimParams{ExceptChannels: []string{"ops", "pager"}, MinPriority: 20}))
	require.Equal(t, []int64{in[3].ID, in[0].ID},
		claimWith(store.NotificationClaimParams{IDs: []int64{in[0].ID, in[3].ID, 1 << 40}}), "only the records named")
	require.Equal(t, []int64{in[0].ID},
		claimWith(store.NotificationClaimParams{IDs: []int64{in[0].ID, in[3].ID}, Channel: "ops"}))
	require.Equal(t, []int64{in[1].ID, in[3].ID, in[5].ID, in[0].ID, in[2].ID, in[4].ID},
		claimWith(store.NotificationClaimParams{}), "no filter takes every due record")
}

func testNotificationEarlier(t *testing.T, s store.Store) {
	ctx := t.Context()
	earlier := func(alertID, channel string, seq int64) *store.Notification {
		t.Helper()
		n, err := s.NotificationEarlier(ctx, &store.NotificationEarlierParams{AlertID: alertID, Channel: channel, Sequence: seq})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		require.NoError(t, err)
		return n
	}
	a := NewAlert("a", "a", alert.StateActive, T0)
	a.Sequence = 1
	n1 := MustApply(t, s, NewChange(a, NewNotification(a, "ops", T0), NewNotification(a, "pager", T0)))
	a2 := *a
	a2.Sequence, a2.State = 2, alert.StateAcknowledged
	n2 := MustApply(t, s, NewChange(&a2, NewNotification(&a2, "ops", T0)))
	a3 := a2
	a3.Sequence, a3.State = 3, alert.StateResolved
	MustApply(t, s, NewChange(&a3, NewNotification(&a3, "ops", T0)))

	require.Nil(t, earlier("a", "ops", 1), "nothing before the first transition")
	got := earlier("a", "ops", 3)
	require.NotNil(t, got)
	require.Equal(t, n1[0].ID, got.ID, "the earliest of the two still queued")
	require.Equal(t, int64(1), got.Sequence)
	require.Nil(t, earlier("a", "slack", 3), "another channel's records do not count")
	above, err := s.NotificationEarlier(ctx, &store.NotificationEarlierParams{AlertID: "a", Channel: "ops", Sequence: 3, Above: 1})
	require.NoError(t, err)
	require.Equal(t, n2[0].ID, above.ID, "the next one above what the caller knows is done")
	_, err = s.NotificationEarlier(ctx, &store.NotificationEarlierParams{AlertID: "a", Channel: "ops", Sequence: 3, Above: 2})
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Nil(t, earlier("b", "ops", 3))

	// Once the first is finished (sent, failed or failed over), the second
	// is the earliest; once that is too, nothing is.
	for _, id := range []int64{n1[0].ID, n2[0].ID} {
		_, err := s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: []*store.NotificationResult{
			{ID: id, State: store.NotificationSent, Attempts: 1},
		}})
		require.NoError(t, err)
		if id == n1[0].ID {
			require.Equal(t, n2[0].ID, earlier("a", "ops", 3).ID)
		}
	}
	require.Nil(t, earlier("a", "ops", 3))
	require.Equal(t, n1[1].ID, earlier("a", "pager", 2).ID)
}

func testClaimLease(t *testing.T, s store.Store) {
	in := enqueue(t, s, T0, spec{"ops", 1})
	got := claim(t, s, "ops", 1, T0, "w1") // leased until T0+1m
	require.Equal(t, ids(in), ids(got))
	require.Empty(t, claim(t, s, "ops", 1, T0.Add(30*time.Second), "w2"), "leased")
	// The lease expired: another worker takes it over.
	got = claim(t, s, "ops", 1, T0.Add(time.Minute), "w2")
	require.Equal(t, ids(in), ids(got))
	require.Equal(t, "w2", got[0].LockedBy)
	ns, err := s.NotificationList(t.Context(), &store.NotificationListParams{})
	require.NoError(t, err)
	require.Equal(t, "w2", ns[0].LockedBy)
	require.Equal(t, T0.Add(2*time.Minute), ns[0].LockedUntil)
}

func testClaimPreLeased(t *testing.T, s store.Store) {
	a := NewAlert("a", "a", alert.StateActive, T0)
	n := NewNotification(a, "ops", T0)
	n.LockedUntil, n.LockedBy = T0.Add(10*time.Second), "writer"
	got := MustApply(t, s, NewChange(a, n))
	require.Equal(t, "writer", got[0].LockedBy)
	require.Equal(t, T0.Add(10*time.Second), got[0].LockedUntil)
	require.Empty(t, claim(t, s, "ops", 10, T0.Add(time.Second), "other"))
	// The writer crashed before sending: the row is claimable after the lease.
	c := claim(t, s, "ops", 10, T0.Add(10*time.Second), "other")
	require.Equal(t, ids(got), ids(c))
}

func testExtendLease(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := enqueue(t, s, T0, spec{"ops", 1}, spec{"ops", 1})
	mine := claim(t, s, "ops", 1, T0, "me")
	theirs := claim(t, s, "ops", 1, T0, "them")
	require.NoError(t, s.NotificationExtendLease(ctx, &store.NotificationExtendLeaseParams{
		IDs: ids(in), Owner: "me", LeaseUntil: T0.Add(time.Hour),
	}))
	// Only my lease moved: theirs expired after a minute.
	require.Equal(t, ids(theirs), ids(claim(t, s, "ops", 10, T0.Add(59*time.Minute), "x")))
	ns, err := s.NotificationList(ctx, &store.NotificationListParams{})
	require.NoError(t, err)
	byID := map[int64]*store.Notification{}
	for _, n := range ns {
		byID[n.ID] = n
	}
	require.Equal(t, T0.Add(time.Hour), byID[mine[0].ID].LockedUntil)
	require.Equal(t, T0.Add(60*time.Minute), byID[theirs[0].ID].LockedUntil, "leased again by x")
	require.Equal(t, "x", byID[theirs[0].ID].LockedBy)
}

func testFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := enqueue(t, s, T0, spec{"ops", 3}, spec{"ops", 2}, spec{"ops", 1})
	claimed := claim(t, s, "ops", 3, T0, "w")
	require.Len(t, claimed, 3)
	sentAt, retryAt := T0.Add(time.Second), T0.Add(5*time.Minute)
	fo := NewNotification(&alert.Alert{ID: in[2].AlertID, Fingerprint: in[2].Fingerprint, Sequence: 1}, "email", sentAt)
	failovers, err := s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: []*store.NotificationResult{
		// Sent: a delivery row with the record's alert filled in, and a thread.
		{ID: in[0].ID, State: store.NotificationSent, Attempts: 1, Thread: "ts-1",
			Delivery: &store.Delivery{At: sentAt, Attempt: 1, Outcome: store.OutcomeSent, StatusCode: 200, Latency: 3 * time.Millisecond, Detail: "ok"}},
		// Retryable failure: queued again, due at retryAt, lease released.
		{ID: in[1].ID, State: store.NotificationQueued, Attempts: 1, NextAttemptAt: retryAt, LastError: "503",
			Delivery: &store.Delivery{At: sentAt, Attempt: 1, Outcome: store.OutcomeRetry, StatusCode: 503, Reason: "server_error"}},
		// Permanent failure handed to a failover channel.
		{ID: in[2].ID, State: store.NotificationFailed, Attempts: 1, LastError: "404", FailedOverTo: "email", Failover: fo,
			Delivery: &store.Delivery{At: sentAt, Attempt: 1, Outcome: store.OutcomeFailedOver, StatusCode: 404}},
	}})
	require.NoError(t, err)
	require.Len(t, failovers, 1)
	require.Equal(t, "email", failovers[0].Channel)
	require.Equal(t, store.NotificationQueued, failovers[0].State)
	require.Greater(t, failovers[0].ID, in[2].ID)

	ns, err := s.NotificationList(ctx, &store.NotificationListParams{})
	require.NoError(t, err)
	byID := map[int64]*store.Notification{}
	for _, n := range ns {
		byID[n.ID] = n
	}
	sent := byID[in[0].ID]
	require.Equal(t, store.NotificationSent, sent.State)
	require.Equal(t, 1, sent.Attempts)
	require.True(t, sent.LockedUntil.IsZero())
	require.Empty(t, sent.LockedBy)
	require.Equal(t, sentAt, sent.UpdatedAt)
	retry := byID[in[1].ID]
	require.Equal(t, store.NotificationQueued, retry.State)
	require.Equal(t, retryAt, retry.NextAttemptAt)
	require.Equal(t, "503", retry.LastError)
	require.True(t, retry.LockedUntil.IsZero())
	failed := byID[in[2].ID]
	require.Equal(t, store.NotificationFailed, failed.State)
	require.Equal(t, "email", failed.FailedOverTo)

	th, err := s.ThreadGet(ctx, &store.ThreadGetParams{AlertID: in[0].AlertID, Channel: "ops"})
	require.NoError(t, err)
	require.Equal(t, "ts-1", th)
	th, err = s.ThreadGet(ctx, &store.ThreadGetParams{AlertID: in[1].AlertID, Channel: "ops"})
	require.NoError(t, err)
	require.Empty(t, th)

	ds, err := s.DeliveryList(ctx, &store.DeliveryListParams{AlertID: in[0].AlertID})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, &store.Delivery{ID: ds[0].ID, NotificationID: in[0].ID, AlertID: in[0].AlertID,
		Fingerprint: in[0].Fingerprint, Channel: "ops", Event: "alert.active", Attempt: 1, At: sentAt,
		Outcome: store.OutcomeSent, StatusCode: 200, Latency: 3 * time.Millisecond, Detail: "ok"}, ds[0])
	byFP, err := s.DeliveryList(ctx, &store.DeliveryListParams{AlertID: string(in[0].Fingerprint)})
	require.NoError(t, err)
	require.Equal(t, ds, byFP, "the alert's fingerprint finds the same entries")

	// Claimable next: the failover now, the retry only at retryAt (when
	// the failover's one-minute lease has expired too).
	got := claim(t, s, "", 10, sentAt, "w")
	require.Equal(t, []int64{failovers[0].ID}, ids(got))
	got = claim(t, s, "", 10, retryAt, "w")
	require.Equal(t, []int64{in[1].ID, failovers[0].ID}, ids(got), "priority 2 before 1")
}

func testFinishUnknown(t *testing.T, s store.Store) {
	in := enqueue(t, s, T0, spec{"ops", 1})
	_, err := s.NotificationFinish(t.Context(), &store.NotificationFinishParams{Results: []*store.NotificationResult{
		{ID: in[0].ID, State: store.NotificationSent, Attempts: 1},
		{ID: in[0].ID + 1000, State: store.NotificationSent, Attempts: 1},
	}})
	require.ErrorIs(t, err, store.ErrNotFound)
	// The batch rolled back: the first record is still queued.
	ns, err := s.NotificationList(t.Context(), &store.NotificationListParams{})
	require.NoError(t, err)
	require.Equal(t, store.NotificationQueued, ns[0].State)
}

// testFinishLargeBatch finishes more outcomes than a backend may write in
// one statement, with one record named twice (the later result wins, as if
// the results were written one by one).
func testFinishLargeBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 101
	specs := make([]spec, n)
	for i := range specs {
		specs[i] = spec{"ops", 1}
	}
	in := enqueue(t, s, T0, specs...)
	sentAt := T0.Add(time.Second)
	var results []*store.NotificationResult
	for i, rec := range in {
		r := &store.NotificationResult{ID: rec.ID, State: store.NotificationSent, Attempts: 1,
			Delivery: &store.Delivery{At: sentAt, Attempt: 1, Outcome: store.OutcomeSent, StatusCode: 200, Detail: fmt.Sprint("ok ", i)}}
		if i%3 == 0 {
			r.State, r.NextAttemptAt, r.LastError = store.NotificationQueued, T0.Add(time.Hour), "503"
			r.Delivery = &store.Delivery{At: sentAt, Attempt: 1, Outcome: store.OutcomeRetry, StatusCode: 503}
		}
		results = append(results, r)
	}
	// in[70] first fails, then (later in the same batch) is sent.
	results[70] = &store.NotificationResult{ID: in[70].ID, State: store.NotificationQueued, Attempts: 1,
		NextAttemptAt: T0.Add(time.Hour), LastError: "timeout",
		Delivery: &store.Delivery{At: sentAt, Attempt: 1, Outcome: store.OutcomeRetry, Error: "timeout"}}
	results = append(results, &store.NotificationResult{ID: in[70].ID, State: store.NotificationSent, Attempts: 2,
		Delivery: &store.Delivery{At: sentAt.Add(time.Millisecond), Attempt: 2, Outcome: store.OutcomeSent, StatusCode: 202, Detail: "second"}})
	_, err := s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: results})
	require.NoError(t, err)

	ns, err := s.NotificationList(ctx, &store.NotificationListParams{})
	require.NoError(t, err)
	require.Len(t, ns, n)
	byID := map[int64]*store.Notification{}
	for _, rec := range ns {
		byID[rec.ID] = rec
	}
	for i, rec := range in {
		got := byID[rec.ID]
		switch {
		case i == 70:
			require.Equal(t, store.NotificationSent, got.State, "the later result wins")
			require.Equal(t, 2, got.Attempts)
			require.Empty(t, got.LastError)
		case i%3 == 0:
			require.Equal(t, store.NotificationQueued, got.State, i)
			require.Equal(t, T0.Add(time.Hour), got.NextAttemptAt, i)
			require.Equal(t, "503", got.LastError, i)
		default:
			require.Equal(t, store.NotificationSent, got.State, i)
			require.Equal(t, sentAt, got.UpdatedAt, i)
		}
		require.True(t, got.LockedUntil.IsZero(), i)
	}
	// Every attempt is in the log, each under its record's alert.
	ds, err := s.DeliveryList(ctx, &store.DeliveryListParams{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, ds, n+1)
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.AlertID]++
		if d.AlertID == in[5].AlertID {
			require.Equal(t, "ok 5", d.Detail)
			require.Equal(t, in[5].ID, d.NotificationID)
		}
	}
	require.Equal(t, 2, seen[in[70].AlertID], "both attempts of the record named twice")
	ds, err = s.DeliveryList(ctx, &store.DeliveryListParams{AlertID: in[70].AlertID})
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.Equal(t, store.OutcomeSent, ds[0].Outcome, "newest first")
	require.Equal(t, "second", ds[0].Detail)
	require.Equal(t, store.OutcomeRetry, ds[1].Outcome)
}

func testNotificationList(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := enqueue(t, s, T0, spec{"ops", 1}, spec{"pager", 1}, spec{"ops", 1})
	_, err := s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: []*store.NotificationResult{
		{ID: in[2].ID, State: store.NotificationCanceled},
	}})
	require.NoError(t, err)
	tests := []struct {
		name string
		p    store.NotificationListParams
		want []int64
	}{
		// Everything, newest first.
		{"all", store.NotificationListParams{}, []int64{in[2].ID, in[1].ID, in[0].ID}},
		// By channel.
		{"channel", store.NotificationListParams{Channel: "ops"}, []int64{in[2].ID, in[0].ID}},
		// By state.
		{"state", store.NotificationListParams{States: []store.NotificationState{store.NotificationCanceled}}, []int64{in[2].ID}},
		// By alert.
		{"alert", store.NotificationListParams{AlertID: in[1].AlertID}, []int64{in[1].ID}},
		// Limit keeps the newest.
		{"limit", store.NotificationListParams{Limit: 1}, []int64{in[2].ID}},
	}
	for _, tt := range tests {
		got, err := s.NotificationList(ctx, &tt.p)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want, ids(got), tt.name)
	}
}

func testNotificationStats(t *testing.T, s store.Store) {
	ctx := t.Context()
	st, err := s.NotificationStats(ctx, T0)
	require.NoError(t, err)
	require.Zero(t, st.Queued)
	require.True(t, st.NextDue.IsZero())

	in := enqueue(t, s, T0, spec{"ops", 1}, spec{"ops", 1}, spec{"pager", 1}, spec{"pager", 1})
	enqueue(t, s, T0.Add(time.Hour), spec{"ops", 1})
	claim(t, s, "pager", 1, T0, "w") // leased until T0+1m
	_, err = s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: []*store.NotificationResult{
		{ID: in[0].ID, State: store.NotificationSent, Attempts: 1},
	}})
	require.NoError(t, err)
	st, err = s.NotificationStats(ctx, T0)
	require.NoError(t, err)
	require.Equal(t, 4, st.Queued, "leased records count, finished ones do not")
	require.Equal(t, map[string]int{"ops": 2, "pager": 2}, st.PerChannel)
	require.Equal(t, T0.Add(time.Minute), st.NextDue, "the lease expires first")
	st, err = s.NotificationStats(ctx, T0.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, T0.Add(time.Hour), st.NextDue)
}

func testDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := func(alertID string, fp alert.Fingerprint, ch string, at time.Duration) *store.Delivery {
		return &store.Delivery{AlertID: alertID, Fingerprint: fp, Channel: ch, Event: "alert.active",
			At: T0.Add(at), Outcome: store.OutcomeSilenced, Reason: "silence", Detail: "s1"}
	}
	ds := []*store.Delivery{
		d("a1", "fa", "ops", 0), d("a1", "fa", "pager", time.Second), d("a2", "fa", "ops", 2*time.Second),
		d("b1", "fb", "ops", 3*time.Second),
	}
	require.NoError(t, s.DeliveryInsert(ctx, &store.DeliveryInsertParams{Deliveries: ds}))
	tests := []struct {
		name string
		p    store.DeliveryListParams
		want []*store.Delivery
	}{
		// Everything, newest first.
		{"all", store.DeliveryListParams{}, []*store.Delivery{ds[3], ds[2], ds[1], ds[0]}},
		// An alert id.
		{"alert id", store.DeliveryListParams{AlertID: "a1"}, []*store.Delivery{ds[1], ds[0]}},
		// A fingerprint covers every alert of the series.
		{"fingerprint", store.DeliveryListParams{AlertID: "fa"}, []*store.Delivery{ds[2], ds[1], ds[0]}},
		// Channel combines with the alert.
		{"channel", store.DeliveryListParams{AlertID: "fa", Channel: "ops"}, []*store.Delivery{ds[2], ds[0]}},
		// Limit keeps the newest.
		{"limit", store.DeliveryListParams{Limit: 2}, []*store.Delivery{ds[3], ds[2]}},
	}
	for _, tt := range tests {
		got, err := s.DeliveryList(ctx, &tt.p)
		require.NoError(t, err, tt.name)
		require.Len(t, got, len(tt.want), tt.name)
		for i := range got {
			require.NotZero(t, got[i].ID)
			w := *tt.want[i]
			w.ID = got[i].ID
			require.Equal(t, &w, got[i], tt.name)
		}
	}
	// Limit 0 means 1000.
	many := make([]*store.Delivery, 1100)
	for i := range many {
		many[i] = d("m", "fm", "ops", time.Duration(i)*time.Millisecond)
	}
	require.NoError(t, s.DeliveryInsert(ctx, &store.DeliveryInsertParams{Deliveries: many}))
	got, err := s.DeliveryList(ctx, &store.DeliveryListParams{AlertID: "m"})
	require.NoError(t, err)
	require.Len(t, got, 1000)
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	const total, workers = 300, 4
	specs := make([]spec, total)
	for i := range specs {
		specs[i] = spec{[]string{"ops", "pager"}[i%2], i % 7}
	}
	enqueue(t, s, T0, specs...)
	var (
		mu   sync.Mutex
		seen = map[int64]string{}
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for w := range workers {
		owner := fmt.Sprintf("w%d", w)
		wg.Go(func() {
			for {
				ns, err := s.NotificationClaim(t.Context(), &store.NotificationClaimParams{
					Limit: 7, Now: T0, LeaseUntil: T0.Add(time.Hour), Owner: owner,
				})
				if err != nil {
					errs <- err
					return
				}
				if len(ns) == 0 {
					return
				}
				mu.Lock()
				for _, n := range ns {
					if prev, ok := seen[n.ID]; ok {
						mu.Unlock()
						errs <- fmt.Errorf("notification %d claimed by %s and %s", n.ID, prev, owner)
						return
					}
					seen[n.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, total)
}
