package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// A database written before migration 0006 (AUTOINCREMENT on the queue)
// keeps its notifications, their ids, states and payloads, and its queue
// still works after the table is rebuilt.
func TestMigrate_0006KeepsTheQueue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "klaxon.db")

	// A store at schema version 5 with two notifications, one sent.
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	ms, err := loadMigrations()
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `CREATE TABLE schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	require.NoError(t, err)
	for _, m := range ms {
		if m.Version > 5 {
			break
		}
		_, err := db.ExecContext(ctx, m.SQL)
		require.NoError(t, err, m.Name)
		_, err = db.ExecContext(ctx, `INSERT INTO schema_version VALUES (?, ?, 0)`, m.Version, m.Name)
		require.NoError(t, err)
	}
	for i, state := range []string{"queued", "sent"} {
		_, err := db.ExecContext(ctx, `INSERT INTO notifications (id, idempotency_key, alert_id, fingerprint,
			sequence, channel, state, payload, created_at, updated_at, sent_at)
			VALUES (?, ?, 'a1', 'f1', 1, 'ops', ?, ?, 1, 1, ?)`, 40+i, "f1-1-ops"+state, state, []byte(`{"p":1}`), i)
		require.NoError(t, err)
	}
	var seq int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'notifications'`).Scan(&seq))
	require.Equal(t, 41, seq)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path, nil)
	require.NoError(t, err)
	defer s.Close()
	ns, err := s.NotificationList(ctx, &store.NotificationListParams{})
	require.NoError(t, err)
	require.Len(t, ns, 2)
	require.Equal(t, int64(41), ns[0].ID)
	require.Equal(t, store.NotificationSent, ns[0].State)
	require.Equal(t, int64(40), ns[1].ID)
	require.Equal(t, store.NotificationQueued, ns[1].State)
	require.JSONEq(t, `{"p":1}`, string(ns[1].Payload))

	var n int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'notifications'`).Scan(&n))
	require.Zero(t, n, "no AUTOINCREMENT counter left")
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master
		WHERE type = 'index' AND name IN ('notifications_claim_order', 'notifications_alert')`).Scan(&n))
	require.Equal(t, 2, n)

	// New records follow the old ids, and the queue claims as before.
	a := storetest.NewAlert("a2", "n2", alert.StateActive, storetest.T0)
	got := storetest.MustApply(t, s, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
	require.Equal(t, int64(42), got[0].ID)
	claimed, err := s.NotificationClaim(ctx, &store.NotificationClaimParams{Channel: "ops", Limit: 10,
		Now: storetest.T0.Add(1), LeaseUntil: storetest.T0.Add(60e9), Owner: "w"})
	require.NoError(t, err)
	require.Len(t, claimed, 2, "the old queued record and the new one")
}
