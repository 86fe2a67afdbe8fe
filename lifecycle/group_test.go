package lifecycle

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// countingStore counts Apply calls and the changes each carried, and runs
// hook (when set) before the Apply that makes the count at.
type countingStore struct {
	store.Store
	applies atomic.Int64
	most    atomic.Int64
	at      int64
	hook    func()
}

func (c *countingStore) Apply(ctx context.Context, p *store.ApplyParams) ([]*store.Notification, error) {
	if n := c.applies.Add(1); c.hook != nil && n == c.at {
		c.hook()
	}
	if n := int64(len(p.Changes)); n > c.most.Load() {
		c.most.Store(n)
	}
	return c.Store.Apply(ctx, p)
}

// groupManager returns a manager over a fresh SQLite store, counted, that
// routes every alert to ops; render is its Render (nil for none).
func groupManager(t *testing.T, render func(*alert.Alert)) (*Manager, *countingStore) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	cs := &countingStore{Store: st}
	m, err := New(t.Context(), Options{Store: cs, Routes: []*Route{{Notify: []string{"ops"}}}, Owner: "me", Render: render})
	require.NoError(t, err)
	return m, cs
}

// explodeOnBoom is a Render that panics on an alert labelled boom.
func explodeOnBoom(a *alert.Alert) {
	if a.Labels["boom"] != "" {
		panic("template exploded")
	}
}

func postOf(prefix string, n int) *pushReq {
	in := make([]Pushed, n)
	for i := range in {
		in[i] = Pushed{Labels: alert.Labels{"alertname": fmt.Sprintf("%s-%d", prefix, i)}}
	}
	return &pushReq{in: in, done: make(chan struct{})}
}

func sizes(reqs []*pushReq) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = len(r.in)
	}
	return out
}

// A group commit takes the oldest waiting posts while they fit in
// maxGroupAlerts, in arrival order; a post larger than that is a group of
// its own.
func TestTakeGroup_BoundsTheAlertsOfOneCommit(t *testing.T) {
	t.Parallel()
	var m Manager
	m.pushQ = []*pushReq{postOf("a", 300), postOf("b", 200), postOf("c", 1), postOf("d", 700), postOf("e", 10)}
	require.Equal(t, []int{300, 200}, sizes(m.takeGroup()))
	require.Equal(t, []int{1}, sizes(m.takeGroup()), "700 more would pass the bound")
	require.Equal(t, []int{700}, sizes(m.takeGroup()), "a post past the bound still goes, alone")
	require.Equal(t, []int{10}, sizes(m.takeGroup()))
	require.Nil(t, m.pushQ)
	require.Empty(t, m.takeGroup())
}

// A leader whose own post does not fit in the first group keeps leading
// until it is committed, though no other caller comes to lead: the posts
// ahead of it go in groups within the bound, in arrival order, each once.
func TestPush_LeaderCommitsGroupsUntilItsOwnPost(t *testing.T) {
	t.Parallel()
	m, cs := groupManager(t, nil)
	ctx := context.Background()
	before := cs.applies.Load()

	// Three posts queued as concurrent callers would queue them, whose
	// callers never come; the fourth caller leads.
	waiting := []*pushReq{postOf("a", 250), postOf("b", 250), postOf("c", 250)}
	m.pushQ = append(m.pushQ, waiting...)
	res, err := m.Push(ctx, postOf("d", 100).in)
	require.NoError(t, err)
	require.Len(t, res, 100)
	for _, r := range waiting {
		require.True(t, r.committed())
		require.NoError(t, r.err)
		require.Len(t, r.out, len(r.in))
	}
	m.lead(ctx, waiting[2]) // a caller whose post a leader committed changes nothing
	require.Len(t, m.Open(), 850)
	require.EqualValues(t, 2, cs.applies.Load()-before, "a+b, then c+d")
	require.LessOrEqual(t, cs.most.Load(), int64(maxGroupAlerts))
	require.Empty(t, m.pushQ)
}

// A group that panics fails its posts and the leader's own, which waited
// for a later group, so no caller waits forever for a post nobody leads.
func TestPush_PanicFailsTheLeadersWaitingPostToo(t *testing.T) {
	t.Parallel()
	m, _ := groupManager(t, explodeOnBoom)
	bad := postOf("bad", maxGroupAlerts)
	bad.in[0].Labels["boom"] = "1"
	m.pushQ = append(m.pushQ, bad)
	own := postOf("own", 1)
	m.pushQ = append(m.pushQ, own)
	func() {
		defer func() { require.NotNil(t, recover(), "the leader's call panics") }()
		m.lead(context.Background(), own)
	}()
	require.True(t, bad.committed())
	require.ErrorContains(t, bad.err, "internal error: template exploded")
	require.True(t, own.committed(), "the leader's own post is not left waiting")
	require.ErrorContains(t, own.err, "internal error: template exploded")
	require.Empty(t, m.pushQ)
	require.Empty(t, m.Open())
}
