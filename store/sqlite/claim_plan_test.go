package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/store"
)

// queryPlan returns the details of EXPLAIN QUERY PLAN for q.
func queryPlan(t *testing.T, s *Store, q string, args ...any) []string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	return plan
}

func openPlanStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// The claim must walk the queue index in claim order and stop at its limit:
// a plan that sorts reads every due row on every claim, which made draining
// a large backlog quadratic.
func TestClaim_WalksQueueIndexInOrder(t *testing.T) {
	s := openPlanStore(t)
	for _, c := range []struct {
		channel  string
		min      int
		failover bool
		except   string
	}{
		{"", 0, false, ""}, {"ops", 0, false, ""}, {"ops", 36, false, ""}, {"ops", 0, true, ""},
		{"", 0, false, " AND channel NOT IN (?8, ?9)"},
	} {
		all := strings.Join(queryPlan(t, s, claimDue(c.except), nil, nil, int64(1), c.channel, 256, c.min, c.failover, "a", "b"), "\n")
		require.Contains(t, all, "notifications_claim_order", "%+v", c)
		require.NotContains(t, all, "TEMP B-TREE", "%+v: the claim sorts", c)
	}
}

// The delivery log of one alert or channel is read through indexes: a scan
// of the notifications table (every notification ever sent) per request
// grew with history.
func TestDeliveryList_UsesIndexes(t *testing.T) {
	s := openPlanStore(t)
	for _, p := range []*store.DeliveryListParams{{AlertID: "a1"}, {AlertID: "a1", Channel: "ops"}} {
		q, args := deliveryListQuery(p)
		plan := queryPlan(t, s, q, args...)
		for _, step := range plan {
			require.False(t, strings.HasPrefix(step, "SCAN "), "%s\nin the plan:\n%s", step, strings.Join(plan, "\n"))
		}
	}
}
