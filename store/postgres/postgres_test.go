package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/postgres"
	"github.com/klaxonhq/klaxon/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testURL returns the test database URL or skips.
func testURL(tb testing.TB) string { tb.Helper(); return postgres.DatabaseURLForTest(tb) }

// newSchema returns a fresh schema name, dropped when the test ends.
func newSchema(tb testing.TB, url string) string { tb.Helper(); return postgres.FreshSchema(tb, url) }

func openTemp(tb testing.TB) *postgres.Store {
	tb.Helper()
	url := testURL(tb)
	schema := newSchema(tb, url)
	s, err := postgres.Open(tb.Context(), url, &postgres.Options{Schema: schema, MaxConns: 4})
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, s.Close()) })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestOpen_Reopen(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	schema := newSchema(t, url)
	s, err := postgres.Open(t.Context(), url, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	a := storetest.NewAlert("a1", "x", alert.StateActive, storetest.T0)
	storetest.MustApply(t, s, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
	require.NoError(t, s.Close())

	// Migrations are idempotent: reopening keeps the data.
	s, err = postgres.Open(t.Context(), url, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	defer s.Close()
	got, err := s.AlertGet(t.Context(), &store.AlertGetParams{IDOrFingerprint: "a1"})
	require.NoError(t, err)
	require.Equal(t, a.Fingerprint, got.Fingerprint)
}

func TestOpen_BadURLHidesSecret(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(t.Context(), "postgres://u:hunter2@127.0.0.1:1/db?sslmode=bogus", nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

// openPair opens two stores on one fresh schema, as two replicas would.
func openPair(t *testing.T) (writer, replica *postgres.Store) {
	t.Helper()
	url := testURL(t)
	schema := newSchema(t, url)
	writer, err := postgres.Open(t.Context(), url, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { writer.Close() })
	replica, err = postgres.Open(t.Context(), url, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { replica.Close() })
	return writer, replica
}

func TestListen(t *testing.T) {
	t.Parallel()
	writer, replica := openPair(t)

	ctx, cancel := context.WithCancel(t.Context())
	wake := replica.Listen(ctx)
	// The listener connects asynchronously: apply until a wake-up arrives.
	for i := range 300 {
		a := storetest.NewAlert(fmt.Sprintf("l%d", i), fmt.Sprintf("l%d", i), alert.StateActive, storetest.T0)
		storetest.MustApply(t, writer, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
		select {
		case _, ok := <-wake:
			require.True(t, ok)
			cancel()
			// Closed once ctx ends.
			for range wake {
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("no wake-up after 300 inserts")
}

// Releasing leases (a stopping dispatcher's unsent records) wakes the other
// replicas; moving a lease forward does not.
func TestListen_ReleasedLeasesWake(t *testing.T) {
	t.Parallel()
	writer, replica := openPair(t)

	a := storetest.NewAlert("r1", "r1", alert.StateActive, storetest.T0)
	ni := storetest.NewNotification(a, "ops", storetest.T0)
	ni.LockedBy, ni.LockedUntil = "writer", time.Now().Add(time.Hour)
	ns := storetest.MustApply(t, writer, storetest.NewChange(a, ni))
	require.Len(t, ns, 1)
	ids := []int64{ns[0].ID}
	lease := func(until time.Time) {
		require.NoError(t, writer.NotificationExtendLease(t.Context(), &store.NotificationExtendLeaseParams{
			IDs: ids, LeaseUntil: until, Owner: "writer"}))
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	wake := replica.Listen(ctx)
	// The listener connects asynchronously: lease and release until a
	// wake-up arrives. Each round first checks that extending alone stays
	// silent once the listener has shown it is connected.
	for range 300 {
		lease(time.Now().Add(time.Hour))
		lease(time.Time{})
		select {
		case <-wake:
			// Let wake-ups of earlier rounds, if any arrive late, drain.
			for quiet := false; !quiet; {
				select {
				case <-wake:
				case <-time.After(300 * time.Millisecond):
					quiet = true
				}
			}
			lease(time.Now().Add(time.Hour))
			select {
			case <-wake:
				t.Fatal("extending a lease woke the replicas")
			case <-time.After(300 * time.Millisecond):
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("no wake-up after 300 releases")
}

// A write that panics half way releases its connection and its row locks:
// a later write of the same alert does not wait for them.
func TestWrite_PanicReleasesLocks(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	a := storetest.NewAlert("a1", "n1", alert.StateActive, storetest.T0)
	storetest.MustApply(t, s, storetest.NewChange(a))
	b := storetest.NewAlert("b1", "n2", alert.StateActive, storetest.T0)
	require.Panics(t, func() {
		_, _ = s.Apply(t.Context(), &store.ApplyParams{Changes: []store.Change{
			storetest.NewChange(a), {Alert: b, Notifications: []*store.NotificationInsert{nil}},
		}})
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	a.Summary = "after the panic"
	_, err := s.Apply(ctx, &store.ApplyParams{Changes: []store.Change{{Alert: a}}})
	require.NoError(t, err, "the row lock of the panicking write was released")
	got, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "a1"})
	require.NoError(t, err)
	require.Equal(t, "after the panic", got.Summary)
}

// A replica whose lease lapsed, and whose record another replica claimed,
// writes nothing when it finishes: not the state, not the log entry, not a
// failover. The replica that holds the lease writes its outcome.
func TestFinish_OwnerWhoseLeaseWasTakenOverWritesNothing(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	a := storetest.NewAlert("a1", "n1", alert.StateActive, storetest.T0)
	ni := storetest.NewNotification(a, "ops", storetest.T0)
	ni.LockedBy, ni.LockedUntil = "replica-a", storetest.T0.Add(time.Minute)
	recs := storetest.MustApply(t, s, storetest.NewChange(a, ni))
	later := storetest.T0.Add(2 * time.Minute)
	claimed, err := s.NotificationClaim(ctx, &store.NotificationClaimParams{Channel: "ops", Limit: 1, Now: later,
		LeaseUntil: later.Add(time.Minute), Owner: "replica-b"})
	require.NoError(t, err)
	require.Len(t, claimed, 1)

	result := func() *store.NotificationResult {
		fo := storetest.NewNotification(a, "backup", later)
		return &store.NotificationResult{ID: recs[0].ID, State: store.NotificationFailed, Attempts: 1,
			FailedOverTo: "backup", Failover: fo,
			Delivery: &store.Delivery{At: later, Attempt: 1, Outcome: store.OutcomeFailedOver, Error: "400"}}
	}
	stale := result()
	failovers, err := s.NotificationFinish(ctx, &store.NotificationFinishParams{
		Results: []*store.NotificationResult{stale}, Owner: "replica-a"})
	require.NoError(t, err)
	require.Empty(t, failovers)
	require.True(t, stale.Skipped)
	ns, err := s.NotificationList(ctx, &store.NotificationListParams{AlertID: "a1"})
	require.NoError(t, err)
	require.Len(t, ns, 1, "no failover record")
	require.Equal(t, store.NotificationQueued, ns[0].State)
	require.Equal(t, "replica-b", ns[0].LockedBy)
	log, err := s.DeliveryList(ctx, &store.DeliveryListParams{AlertID: "a1"})
	require.NoError(t, err)
	require.Empty(t, log)

	current := result()
	failovers, err = s.NotificationFinish(ctx, &store.NotificationFinishParams{
		Results: []*store.NotificationResult{current}, Owner: "replica-b"})
	require.NoError(t, err)
	require.False(t, current.Skipped)
	require.Len(t, failovers, 1)
	ns, err = s.NotificationList(ctx, &store.NotificationListParams{AlertID: "a1", Channel: "ops"})
	require.NoError(t, err)
	require.Equal(t, store.NotificationFailed, ns[0].State)
}

// A NUL character (a pushed label, a receiver's error body) is stored as
// U+FFFD instead of failing the whole batch: PostgreSQL refuses it in text
// and jsonb.
func TestNULIsStored(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	a := storetest.NewAlert("nul", "nul", alert.StateActive, storetest.T0)
	a.Labels["bad"] = "a\x00b"
	a.Summary = "x\x00y"
	ok := storetest.NewAlert("ok", "ok", alert.StateActive, storetest.T0)
	ns := storetest.MustApply(t, s, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)),
		storetest.NewChange(ok))
	got, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "nul"})
	require.NoError(t, err)
	require.Equal(t, "a\uFFFDb", got.Labels["bad"])
	require.Equal(t, "x\uFFFDy", got.Summary)
	_, err = s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "ok"})
	require.NoError(t, err)

	_, err = s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: []*store.NotificationResult{{
		ID: ns[0].ID, State: store.NotificationQueued, Attempts: 1, LastError: "500: \x00\x00",
		NextAttemptAt: storetest.T0.Add(time.Minute),
		Delivery:      &store.Delivery{At: storetest.T0, Attempt: 1, Outcome: store.OutcomeRetry, Error: "500: \x00"},
	}}})
	require.NoError(t, err)
}

// A schema name with capitals, or long enough that its NOTIFY channel
// would pass PostgreSQL's 63-byte limit, works like any other, also when
// replicas open it at the same instant.
func TestOpen_UnusualSchemaNames(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	for _, prefix := range []string{"Klaxon_Mixed_", "klaxon_a_rather_long_schema_name_for_the_notify_channel_"} {
		schema := prefix + newSchema(t, url)[len("klaxon_test_"):]
		t.Cleanup(func() {
			conn, err := pgx.Connect(context.Background(), url)
			require.NoError(t, err)
			defer conn.Close(context.Background())
			_, err = conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
			require.NoError(t, err)
		})
		var wg sync.WaitGroup
		stores := make([]*postgres.Store, 4)
		errs := make([]error, 4)
		for i := range stores {
			wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), url, &postgres.Options{Schema: schema}) })
		}
		wg.Wait()
		for i, s := range stores {
			require.NoError(t, errs[i], schema)
			t.Cleanup(func() { s.Close() })
		}
		writer, replica := stores[0], stores[1]
		ctx, cancel := context.WithCancel(t.Context())
		wake := replica.Listen(ctx)
		woke := false
		for i := 0; i < 300 && !woke; i++ {
			a := storetest.NewAlert(fmt.Sprintf("u%d", i), fmt.Sprintf("u%d", i), alert.StateActive, storetest.T0)
			storetest.MustApply(t, writer, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
			select {
			case <-wake:
				woke = true
			case <-time.After(100 * time.Millisecond):
			}
		}
		cancel()
		require.True(t, woke, schema)
	}
}

// A malformed connection string's error shows no piece of its password
// (pgx's own text does, for a password with an unencoded / or ?).
func TestOpen_BadURLShowsNoPassword(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://klaxon:Zq7/x?hunter-Pw9x@db/klaxon",
		"postgres://klaxon:Zq7hunterPw9x@db:notaport/klaxon",
		"host=db password=Zq7 hunter-Pw9x",
	} {
		_, err := postgres.Open(t.Context(), url, nil)
		require.Error(t, err, url)
		require.Contains(t, err.Error(), "not a valid PostgreSQL connection string")
		for _, piece := range []string{"Zq7", "hunter", "Pw9x"} {
			require.NotContains(t, err.Error(), piece, url)
		}
	}
}
