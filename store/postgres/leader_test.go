package postgres_test

import (
	"hash/fnv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/postgres"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// openReplicas opens n stores on one fresh schema, as n replicas would.
func openReplicas(t *testing.T, n int) ([]*postgres.Store, string) {
	t.Helper()
	url := testURL(t)
	schema := newSchema(t, url)
	out := make([]*postgres.Store, n)
	for i := range out {
		s, err := postgres.Open(t.Context(), url, &postgres.Options{Schema: schema, MaxConns: 4})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		out[i] = s
	}
	return out, schema
}

func applyOne(t *testing.T, s store.Store, name string) error {
	t.Helper()
	a := storetest.NewAlert(name, name, alert.StateActive, storetest.T0)
	_, err := s.Apply(t.Context(), &store.ApplyParams{Changes: []store.Change{storetest.NewChange(a)}})
	return err
}

// One replica leads at a time; the other takes over once the leader
// resigns, and the old leader's writes are fenced from then on.
func TestTryLead_OneLeaderAtATimeAndFencing(t *testing.T) {
	rs, _ := openReplicas(t, 2)
	a, b := rs[0], rs[1]
	ctx := t.Context()

	_, err := a.Leader(ctx)
	require.ErrorIs(t, err, store.ErrNotFound, "no replica led yet")

	ta, err := a.TryLead(ctx, store.Replica{ID: "a", URL: "http://a"})
	require.NoError(t, err)
	require.NotNil(t, ta)
	got, err := b.Leader(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Replica{ID: "a", URL: "http://a"}, got)
	require.NoError(t, applyOne(t, a, "written-by-a"))

	// b tries while a leads: it must not win.
	tb, err := b.TryLead(ctx, store.Replica{ID: "b", URL: "http://b"})
	require.NoError(t, err)
	require.Nil(t, tb, "b won while a held the lead")

	ta.Resign()
	select {
	case <-ta.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("a's term did not end after Resign")
	}
	require.ErrorIs(t, applyOne(t, a, "a-after-resign"), store.ErrNotLeader)

	tb, err = b.TryLead(ctx, store.Replica{ID: "b", URL: "http://b"})
	require.NoError(t, err)
	require.NotNil(t, tb, "the lock was not free after a resigned")
	defer tb.Resign()
	got, err = a.Leader(ctx)
	require.NoError(t, err)
	require.Equal(t, "b", got.ID)
	require.NoError(t, applyOne(t, b, "written-by-b"))
	_, err = b.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "a-after-resign"})
	require.ErrorIs(t, err, store.ErrNotFound, "a fenced write reached the table")
}

// A leader whose session PostgreSQL ends (a network cut, a failover, an
// administrator) loses its term within a ping, and the lock is free for
// another replica.
func TestTryLead_LostSessionEndsTheTerm(t *testing.T) {
	rs, schema := openReplicas(t, 2)
	a, b := rs[0], rs[1]
	ctx := t.Context()
	ta, err := a.TryLead(ctx, store.Replica{ID: "a"})
	require.NoError(t, err)
	require.NotNil(t, ta)

	conn, err := pgx.Connect(ctx, testURL(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	// The session holding this schema's leadership lock (a bigint advisory
	// key shows in pg_locks as classid:objid) is the one to end.
	h := fnv.New64a()
	_, _ = h.Write([]byte("klaxon-leader:klaxon_queue_" + schema))
	tag, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND ((classid::bigint << 32) | objid::bigint) = $1`, int64(h.Sum64()))
	require.NoError(t, err)
	require.NotZero(t, tag.RowsAffected(), "no advisory lock holder found")

	select {
	case <-ta.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the term outlived its session")
	}
	require.ErrorIs(t, applyOne(t, a, "a-after-loss"), store.ErrNotLeader)
	tb, err := b.TryLead(ctx, store.Replica{ID: "b"})
	require.NoError(t, err)
	require.NotNil(t, tb, "the lock of the ended session was not free")
	tb.Resign()
}

// A leader that has not noticed a takeover yet (its ping has not failed)
// still cannot write: Apply and SilenceUpsert check the term in the
// database.
func TestApply_FencedByANewerTerm(t *testing.T) {
	rs, schema := openReplicas(t, 1)
	a := rs[0]
	ctx := t.Context()
	ta, err := a.TryLead(ctx, store.Replica{ID: "a"})
	require.NoError(t, err)
	require.NotNil(t, ta)
	defer ta.Resign()
	require.NoError(t, applyOne(t, a, "before"))

	conn, err := pgx.Connect(ctx, testURL(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `UPDATE `+pgx.Identifier{schema, "leader"}.Sanitize()+` SET term = term + 1, replica = 'b'`)
	require.NoError(t, err)

	require.ErrorIs(t, applyOne(t, a, "after"), store.ErrNotLeader)
	_, err = a.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "after"})
	require.ErrorIs(t, err, store.ErrNotFound)
	sil := &store.Silence{ID: "s1", Matchers: alert.Matchers{{Name: "host", Op: "=", Value: "db1"}},
		StartsAt: storetest.T0, EndsAt: storetest.T0.Add(time.Hour), CreatedAt: storetest.T0, UpdatedAt: storetest.T0}
	require.ErrorIs(t, a.SilenceUpsert(ctx, sil), store.ErrNotLeader, "a deposed leader wrote a silence")
	_, err = a.SilenceGet(ctx, "s1")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// A transaction left open on the leader row (a leader that vanished before
// its COMMIT) does not stall a takeover for good: the attempt gives up after
// its lock timeout and frees the lock, and the next one succeeds once the
// row is free.
func TestTryLead_AbandonedTransactionDoesNotStall(t *testing.T) {
	t.Parallel()
	rs, schema := openReplicas(t, 2)
	a, b := rs[0], rs[1]
	ctx := t.Context()
	ta, err := a.TryLead(ctx, store.Replica{ID: "a"})
	require.NoError(t, err)
	require.NotNil(t, ta)
	ta.Resign()
	<-ta.Lost()

	conn, err := pgx.Connect(ctx, testURL(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT term FROM `+pgx.Identifier{schema, "leader"}.Sanitize()+` WHERE id = 1 FOR SHARE`)
	require.NoError(t, err)

	start := time.Now()
	tb, err := b.TryLead(ctx, store.Replica{ID: "b"})
	require.Error(t, err, "the takeover went through a held row lock")
	require.Nil(t, tb)
	require.Less(t, time.Since(start), time.Minute)

	require.NoError(t, tx.Rollback(ctx))
	tb, err = b.TryLead(ctx, store.Replica{ID: "b"})
	require.NoError(t, err)
	require.NotNil(t, tb, "the failed attempt kept the lock")
	tb.Resign()
}
