package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

func TestStore_NotificationReleaseLeases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	defer s.Close()
	now := time.Now()
	a := &alert.Alert{ID: "a", Fingerprint: "fp", State: alert.StateActive, Severity: alert.High, StartedAt: now, UpdatedAt: now, Sequence: 1}
	ins := func(key, owner string) *store.NotificationInsert {
		return &store.NotificationInsert{IdempotencyKey: key, AlertID: "a", Fingerprint: "fp", Sequence: 1, Channel: key,
			Event: "alert.active", Payload: []byte("{}"), CreatedAt: now, NextAttemptAt: now,
			LockedUntil: now.Add(time.Hour), LockedBy: owner}
	}
	_, err = s.Apply(ctx, &store.ApplyParams{Changes: []store.Change{{Alert: a, Notifications: []*store.NotificationInsert{
		ins("old", "dead-process"), ins("mine", "me"),
	}}}})
	require.NoError(t, err)

	// Both leased: nothing claimable.
	got, err := s.NotificationClaim(ctx, &store.NotificationClaimParams{Limit: 10, Now: now, LeaseUntil: now.Add(time.Minute), Owner: "me"})
	require.NoError(t, err)
	require.Empty(t, got)

	n, err := s.NotificationReleaseLeases(ctx, "me")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err = s.NotificationClaim(ctx, &store.NotificationClaimParams{Limit: 10, Now: now, LeaseUntil: now.Add(time.Minute), Owner: "me"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "old", got[0].Channel, "only the dead owner's lease is released")
}
