package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// A follower writes nothing; once it leads it knows what the previous
// leader changed and writes again.
func TestManager_FollowAndLead(t *testing.T) {
	t.Parallel()
	leader := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	follower, err := New(ctx, Options{Store: leader.st, Routes: []*Route{{Notify: []string{"ops"}}},
		Now: leader.clock.now, Owner: "other", Follower: true})
	require.NoError(t, err)

	labels := alert.Labels{"alertname": "disk_full", "host": "db1"}
	_, err = follower.Push(ctx, []Pushed{{Labels: labels}})
	require.ErrorIs(t, err, store.ErrNotLeader)
	require.Empty(t, follower.Open(), "a follower holds no alerts")
	_, err = follower.AddSilence(ctx, &store.Silence{Matchers: alert.Matchers{{Name: "host", Op: "=", Value: "db1"}},
		EndsAt: leader.clock.now().Add(time.Hour)})
	require.ErrorIs(t, err, store.ErrNotLeader)

	res, err := leader.m.Push(ctx, []Pushed{{Labels: labels}})
	require.NoError(t, err)
	leader.m.Follow()
	_, err = leader.m.Acknowledge(ctx, res[0].ID, "ann", "")
	require.ErrorIs(t, err, store.ErrNotLeader, "a leader that stepped down still wrote")

	_, err = follower.Acknowledge(ctx, res[0].ID, "bob", "")
	require.ErrorIs(t, err, store.ErrNotLeader, "an alert the follower does not hold")

	require.NoError(t, follower.Lead(ctx))
	got, err := follower.Acknowledge(ctx, res[0].ID, "bob", "mine now")
	require.NoError(t, err, "the new leader does not know the alert its predecessor opened")
	require.Equal(t, alert.StateAcknowledged, got.State)
	require.Equal(t, "bob", got.AcknowledgedBy)
	require.Len(t, follower.Open(), 1)
}
