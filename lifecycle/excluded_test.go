package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
)

// Options.Excluded keeps an alert off a channel wherever it would come
// from: a route's channels and its failover chain.
func TestRoute_Excluded(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"a", "b"}, Failover: []string{"b", "c"}}})
	b.m.excluded = func(a *alert.Alert, channel string) bool { return a.Labels["quiet"] == channel }

	plan := b.m.route(&alert.Alert{Labels: alert.Labels{"quiet": "b"}}, nil)
	require.Len(t, plan.targets, 1)
	require.Equal(t, "a", plan.targets[0].channel)
	require.Equal(t, []string{"c"}, plan.targets[0].failover, "b left out of the failover chain too")

	plan = b.m.route(&alert.Alert{Labels: alert.Labels{"quiet": "c"}}, nil)
	require.Len(t, plan.targets, 2)
	require.Equal(t, []string{"b"}, plan.targets[0].failover)
	require.Empty(t, plan.targets[1].failover)

	require.Equal(t, []string{"a"}, b.m.allowed(&alert.Alert{Labels: alert.Labels{"quiet": "b"}}, []string{"a", "b"}))
}
