package klaxon_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store/sqlite"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// The cycle in which a condition clears fails to write: the resolution is
// written by a later cycle, although the evaluator reports a cleared series
// only once.
func TestEngine_ResolutionSurvivesAFailedWrite(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	st := &storetest.FaultyStore{Store: db}
	got := make(chan notify.Event, 10)
	ch := notify.ChannelFunc(func(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
		got <- n.Event
		return notify.Receipt{}, nil
	})
	var mu sync.Mutex
	depth := 42.0
	eng, err := klaxon.New(
		klaxon.WithStore(st),
		klaxon.WithRules(klaxon.Rule{ID: "backlog", Condition: klaxon.Threshold("backlog", ">", 10), Severity: alert.Critical}),
		klaxon.WithChannel("mine", ch),
		klaxon.WithoutRuntimeRules(),
		klaxon.WithEvaluationInterval(time.Hour),
		klaxon.WithProvider("jobs", providerFunc(func(name string) (float64, bool) {
			mu.Lock()
			defer mu.Unlock()
			return depth, name == "backlog"
		})),
	)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = eng.Run(ctx) }()
	<-eng.Ready()
	next := func() notify.Event {
		select {
		case ev := <-got:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no notification")
			return ""
		}
	}

	require.NoError(t, eng.Evaluate(ctx))
	require.Equal(t, notify.EventActive, next())

	mu.Lock()
	depth = 0
	mu.Unlock()
	st.Fail.Store(true)
	require.Error(t, eng.Evaluate(ctx))
	st.Fail.Store(false)
	require.NoError(t, eng.Evaluate(ctx))
	require.Equal(t, notify.EventResolved, next())
	require.Empty(t, eng.Alerts())
}

// A channel that stays failing keeps its self-alert open past the 24 h end
// time it was raised with: the leader raises it again from channel health.
func TestEngine_SelfAlertStaysOpenWhileTheChannelFails(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	eng := startWithGoneHook(t, klaxon.WithClock(clock))
	selfAlert := func() *alert.Alert { return openSelfAlert(eng, "") }
	require.NotNil(t, selfAlert())

	advance(23 * time.Hour)
	eng.RefreshSelfAlerts(t.Context())
	advance(2 * time.Hour) // past the first end time
	require.NoError(t, eng.Manager().Tick(t.Context()))
	a := selfAlert()
	require.NotNil(t, a, "still open while the channel fails")
	require.True(t, a.EndsAt.After(clock()))
}
