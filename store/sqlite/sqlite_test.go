package sqlite_test

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	sqlitedrv "modernc.org/sqlite"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
	"github.com/klaxonhq/klaxon/store/storetest"
)

func TestMain(m *testing.M) {
	if crashChild() {
		return
	}
	goleak.VerifyTestMain(m)
}

func openTemp(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "klaxon.db"), nil)
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
	path := filepath.Join(t.TempDir(), "klaxon.db")
	s, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	a := storetest.NewAlert("a1", "x", alert.StateActive, storetest.T0)
	storetest.MustApply(t, s, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
	require.NoError(t, s.Close())

	// Migrations are idempotent: reopening keeps the data and the schema.
	s, err = sqlite.Open(t.Context(), path, &sqlite.Options{ReadConns: 2})
	require.NoError(t, err)
	defer s.Close()
	got, err := s.AlertGet(t.Context(), &store.AlertGetParams{IDOrFingerprint: "a1"})
	require.NoError(t, err)
	require.Equal(t, a.Fingerprint, got.Fingerprint)
	ns, err := s.NotificationList(t.Context(), &store.NotificationListParams{})
	require.NoError(t, err)
	require.Len(t, ns, 1)
}

func TestOpen_EmptyPath(t *testing.T) {
	t.Parallel()
	_, err := sqlite.Open(t.Context(), "", nil)
	require.Error(t, err)
}

// A write that fails or panics half way leaves nothing behind: not its
// rows, and not an open transaction on the one write connection that would
// fail every write after it.
func TestApply_FailureAndPanicRollBack(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	a := storetest.NewAlert("a1", "n1", alert.StateActive, storetest.T0)
	b := storetest.NewAlert("b1", "n2", alert.StateActive, storetest.T0)

	_, err := s.Apply(ctx, &store.ApplyParams{Changes: []store.Change{storetest.NewChange(a), {}}})
	require.ErrorContains(t, err, "change 1: no alert")
	require.Panics(t, func() {
		_, _ = s.Apply(ctx, &store.ApplyParams{Changes: []store.Change{
			storetest.NewChange(b), {Alert: b, Notifications: []*store.NotificationInsert{nil}},
		}})
	})
	_, err = s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "a1"})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "b1"})
	require.ErrorIs(t, err, store.ErrNotFound)

	storetest.MustApply(t, s, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
	got, err := s.AlertGet(ctx, &store.AlertGetParams{IDOrFingerprint: "a1"})
	require.NoError(t, err)
	require.Equal(t, "a1", got.ID)
}

// On Linux, commits sync with fdatasync(2), as SQLite's own builds do there.
func TestOpen_SyncsWithFdatasync(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("fdatasync is switched on where the platform has it; this checks Linux")
	}
	openTemp(t)
	require.True(t, sqlitedrv.FdatasyncEnabled())
}
