package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/store"
)

// The claim must walk the queue index in claim order and stop at its limit:
// a plan that sorts reads every due row on every claim, which made draining
// a large backlog quadratic.
func TestClaim_WalksQueueIndexInOrder(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	defer s.Close()
	for _, channel := range []string{"", "ops"} {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+claimDue, nil, nil, int64(1), channel, 256, `["mail"]`)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		all := strings.Join(plan, "\n")
		require.Contains(t, all, "notifications_claim_order", "channel %q", channel)
		require.NotContains(t, all, "TEMP B-TREE", "channel %q: the claim sorts", channel)
	}
}

// The delivery log of one alert or channel is read through indexes: a scan
// of the notifications table (every notification ever sent) per request
// grew with history.
func TestDeliveryList_UsesIndexes(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	defer s.Close()
	q, args := deliveryListQuery(&store.DeliveryListParams{AlertID: "a1"})
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	for _, step := range plan {
		require.False(t, strings.HasPrefix(step, "SCAN "), "%s\nin the plan:\n%s", step, strings.Join(plan, "\n"))
	}
}
