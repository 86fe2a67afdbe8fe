package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// A panic inside a write through database/sql releases the one write
// connection: later writes, raw or not, proceed, and the panicking
// transaction left nothing behind.
func TestWriteSync_PanicReleasesTheWriter(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "klaxon.db"), nil)
	require.NoError(t, err)
	defer s.Close()
	require.Panics(t, func() {
		_ = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO silences (id, starts_at, ends_at, created_at, updated_at)
				VALUES ('s1', 1, 2, 1, 1)`)
			require.NoError(t, err)
			panic("boom")
		})
	})
	_, err = s.SilenceGet(ctx, "s1")
	require.ErrorIs(t, err, store.ErrNotFound)

	a := storetest.NewAlert("a1", "n1", alert.StateActive, storetest.T0)
	storetest.MustApply(t, s, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
	got, err := s.NotificationClaim(ctx, &store.NotificationClaimParams{Channel: "ops", Limit: 1,
		Now: storetest.T0.Add(1), LeaseUntil: storetest.T0.Add(60e9), Owner: "w"})
	require.NoError(t, err)
	require.Len(t, got, 1)
}
