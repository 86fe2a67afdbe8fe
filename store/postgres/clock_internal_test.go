package postgres

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

func openOwn(t *testing.T, o Options) *Store {
	t.Helper()
	url := DatabaseURLForTest(t)
	o.Schema = FreshSchema(t, url)
	s, err := Open(t.Context(), url, &o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func queuedInsert(key, alertID string, now time.Time) *store.NotificationInsert {
	return &store.NotificationInsert{IdempotencyKey: key, AlertID: alertID, Fingerprint: "fp-" + alert.Fingerprint(alertID),
		Sequence: 1, Channel: "ops", Event: "alert.active", Priority: 41, Payload: []byte(`{}`),
		CreatedAt: now, NextAttemptAt: now}
}

// CreatedAt (the transition's time, which receivers see) is stored on the
// writer's clock: it reads back exactly, however the offset moves.
func TestClock_CreatedAtRoundTripsAcrossRemeasures(t *testing.T) {
	s := openOwn(t, Options{MaxConns: 4})
	ctx := t.Context()
	now := time.Now().UTC()
	a := storetest.NewAlert("x1", "x1", alert.StateActive, now)
	got, err := s.Apply(ctx, &store.ApplyParams{Changes: []store.Change{storetest.NewChange(a, queuedInsert("k1", "x1", now))}})
	require.NoError(t, err)
	before := s.offset.Load()
	for i := 0; i < 20 && s.offset.Load() == before; i++ {
		require.NoError(t, s.measureOffset(ctx)) // what keepOffset does every 30 s
	}
	list, err := s.NotificationList(ctx, &store.NotificationListParams{AlertID: "x1"})
	require.NoError(t, err)
	t.Logf("offset %v -> %v; Apply returned CreatedAt %s, read back %s",
		time.Duration(before), time.Duration(s.offset.Load()),
		got[0].CreatedAt.Format(time.RFC3339Nano), list[0].CreatedAt.Format(time.RFC3339Nano))
	require.Equal(t, got[0].CreatedAt, list[0].CreatedAt, "CreatedAt does not round-trip")
}

// The database here runs on this machine's clock, so the true offset is 0;
// a busy pool does not skew the measurement (the wait for a connection is
// not part of the round trip).
func TestClock_BusyPoolDoesNotSkewTheOffset(t *testing.T) {
	s := openOwn(t, Options{MaxConns: 1})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				_, _ = s.pool.Exec(ctx, `SELECT pg_sleep(0.3)`)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	err := s.measureOffset(t.Context())
	cancel()
	wg.Wait()
	require.NoError(t, err)
	off := time.Duration(s.offset.Load())
	t.Logf("measured offset under a busy pool: %v (true: ~0)", off)
	require.Less(t, off.Abs(), 20*time.Millisecond)
}

// Times near the end of what nanoseconds hold saturate: with a clock a
// minute behind the database, a lease until 2262 stays in 2262 (it does
// not wrap round to 1677, where another owner would claim it at once).
func TestClock_FarTimesSaturate(t *testing.T) {
	s := openOwn(t, Options{MaxConns: 4, Now: func() time.Time { return time.Now().Add(-time.Minute) }})
	ctx := t.Context()
	now := time.Now().Add(-time.Minute)
	ni := queuedInsert("k1", "x1", now)
	ni.LockedUntil, ni.LockedBy = time.Unix(0, math.MaxInt64-int64(30*time.Second)), "a"
	a := storetest.NewAlert("x1", "x1", alert.StateActive, now)
	_, err := s.Apply(ctx, &store.ApplyParams{Changes: []store.Change{storetest.NewChange(a, ni)}})
	require.NoError(t, err)
	got, err := s.NotificationClaim(ctx, &store.NotificationClaimParams{Limit: 10, Now: now,
		LeaseUntil: now.Add(time.Minute), Owner: "b"})
	require.NoError(t, err)
	require.Empty(t, got, "a record leased until 2262 was claimed by another owner")
}

// NotificationFinish stamps updated_at with the store's clock (Options.Now).
func TestClock_FinishStampsTheStoresClock(t *testing.T) {
	ahead := func() time.Time { return time.Now().Add(time.Minute) }
	s := openOwn(t, Options{MaxConns: 4, Now: ahead})
	ctx := t.Context()
	now := ahead()
	a := storetest.NewAlert("x1", "x1", alert.StateActive, now)
	_, err := s.Apply(ctx, &store.ApplyParams{Changes: []store.Change{storetest.NewChange(a, queuedInsert("k1", "x1", now))}})
	require.NoError(t, err)
	got, err := s.NotificationClaim(ctx, &store.NotificationClaimParams{Limit: 10, Now: now,
		LeaseUntil: now.Add(time.Minute), Owner: "b"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	_, err = s.NotificationFinish(ctx, &store.NotificationFinishParams{Owner: "b", Results: []*store.NotificationResult{{
		ID: got[0].ID, State: store.NotificationQueued, Attempts: 1, NextAttemptAt: now.Add(time.Second)}}})
	require.NoError(t, err)
	list, err := s.NotificationList(ctx, &store.NotificationListParams{AlertID: "x1"})
	require.NoError(t, err)
	require.WithinDuration(t, ahead(), list[0].UpdatedAt, 5*time.Second, "updated_at is not on the store's clock")
}

// toDB and fromDB are inverses within range, keep the zero time, saturate
// at both ends whichever way the offset points, and never turn a time into
// the zero time.
func TestClock_ToDBEdges(t *testing.T) {
	t.Parallel()
	for _, off := range []time.Duration{0, time.Minute, -time.Minute} {
		s := &Store{}
		s.offset.Store(int64(off))
		now := time.Now().UTC().Truncate(time.Microsecond)
		require.Equal(t, nanos(now)+int64(off), s.toDB(now))
		require.Equal(t, now, s.fromDB(s.toDB(now)))
		require.Zero(t, s.toDB(time.Time{}))
		require.True(t, s.fromDB(0).IsZero())
		far := time.Unix(0, math.MaxInt64-int64(time.Second))
		long := time.Unix(0, math.MinInt64+1+int64(time.Second))
		if off > 0 {
			require.Equal(t, int64(math.MaxInt64), s.toDB(far))
		}
		if off < 0 {
			require.Equal(t, int64(math.MinInt64+1), s.toDB(long))
		}
		require.Greater(t, s.toDB(far), s.toDB(now))
		require.Less(t, s.toDB(long), s.toDB(now))
		// The instant whose shifted value would be 0 stays a time (the
		// epoch itself is stored as 0 by every store: rowcodec.Nanos).
		if off != 0 {
			require.NotZero(t, s.toDB(time.Unix(0, -int64(off))))
		}
	}
}
