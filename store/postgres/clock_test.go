package postgres_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/postgres"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// Two replicas whose clocks are a minute apart share the queue: the one
// ahead neither takes the other's leased record early nor sends a retry
// before it is due, and each reads the due and lease times on its own clock.
func TestQueueTimes_OnTheDatabaseClock(t *testing.T) {
	url := testURL(t)
	schema := newSchema(t, url)
	const skew = time.Minute
	ahead := func() time.Time { return time.Now().Add(skew) }
	a, err := postgres.Open(t.Context(), url, &postgres.Options{Schema: schema, MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	b, err := postgres.Open(t.Context(), url, &postgres.Options{Schema: schema, MaxConns: 4, Now: ahead})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	ctx := t.Context()

	// a writes a record leased to itself for 15 s, and one whose retry is
	// due in 30 s, both by its own clock.
	now := time.Now()
	leased := &store.NotificationInsert{IdempotencyKey: "k-leased", AlertID: "x1", Fingerprint: "fp1", Sequence: 1,
		Channel: "ops", Event: "alert.active", Priority: 41, Payload: []byte(`{}`), CreatedAt: now,
		NextAttemptAt: now, LockedUntil: now.Add(15 * time.Second), LockedBy: "a"}
	retry := &store.NotificationInsert{IdempotencyKey: "k-retry", AlertID: "x2", Fingerprint: "fp2", Sequence: 1,
		Channel: "ops", Event: "alert.active", Priority: 41, Payload: []byte(`{}`), CreatedAt: now,
		NextAttemptAt: now.Add(30 * time.Second)}
	x1 := storetest.NewAlert("x1", "x1", alert.StateActive, now)
	x2 := storetest.NewAlert("x2", "x2", alert.StateActive, now)
	_, err = a.Apply(ctx, &store.ApplyParams{Changes: []store.Change{storetest.NewChange(x1, leased), storetest.NewChange(x2, retry)}})
	require.NoError(t, err)

	// b, a minute ahead, sees both as they are: leased, and not yet due.
	bNow := ahead()
	got, err := b.NotificationClaim(ctx, &store.NotificationClaimParams{Limit: 10, Now: bNow,
		LeaseUntil: bNow.Add(15 * time.Second), Owner: "b"})
	require.NoError(t, err)
	require.Empty(t, got, "a replica whose clock runs ahead took records early")

	// Each reads the queue's times on its own clock.
	near := func(want, got time.Time) {
		t.Helper()
		require.WithinDuration(t, want, got, time.Second)
	}
	for _, s := range []struct {
		st    *postgres.Store
		shift time.Duration
	}{{a, 0}, {b, skew}} {
		list, err := s.st.NotificationList(ctx, &store.NotificationListParams{AlertID: "x1"})
		require.NoError(t, err)
		require.Len(t, list, 1)
		// CreatedAt is the transition's time on the writer's clock.
		near(now, list[0].CreatedAt)
		near(now.Add(s.shift), list[0].NextAttemptAt)
		near(now.Add(15*time.Second+s.shift), list[0].LockedUntil)
		stats, err := s.st.NotificationStats(ctx, now.Add(s.shift))
		require.NoError(t, err)
		near(now.Add(15*time.Second+s.shift), stats.NextDue)
	}

	// By b's clock, the lease ends 15 s (and the retry is due 30 s) after
	// a's now plus the skew; a claim at that time takes them.
	got, err = b.NotificationClaim(ctx, &store.NotificationClaimParams{Limit: 10, Now: now.Add(skew + 31*time.Second),
		LeaseUntil: bNow.Add(time.Minute), Owner: "b"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	near(bNow.Add(time.Minute), got[0].LockedUntil)

	// b's retry, scheduled by its clock, is due for a at the same instant.
	r := got[1]
	_, err = b.NotificationFinish(ctx, &store.NotificationFinishParams{Owner: "b", Results: []*store.NotificationResult{{
		ID: r.ID, State: store.NotificationQueued, Attempts: 1, NextAttemptAt: bNow.Add(20 * time.Second),
	}}})
	require.NoError(t, err)
	early, err := a.NotificationClaim(ctx, &store.NotificationClaimParams{Limit: 10, Now: now.Add(19 * time.Second),
		LeaseUntil: now.Add(time.Minute), Owner: "a"})
	require.NoError(t, err)
	require.Empty(t, early)
	due, err := a.NotificationClaim(ctx, &store.NotificationClaimParams{Limit: 10, Now: now.Add(21 * time.Second),
		LeaseUntil: now.Add(time.Minute), Owner: "a"})
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, r.ID, due[0].ID)
}
