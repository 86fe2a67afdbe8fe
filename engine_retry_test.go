package klaxon_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// flakyStore fails Apply while fail is set.
type flakyStore struct {
	store.Store
	fail atomic.Bool
}

func (s *flakyStore) Apply(ctx context.Context, p *store.ApplyParams) ([]*store.Notification, error) {
	if s.fail.Load() {
		return nil, errors.New("database unavailable")
	}
	return s.Store.Apply(ctx, p)
}

// The cycle in which a condition clears fails to write: the resolution is
// written by a later cycle, although the evaluator reports a cleared series
// only once.
func TestEngine_ResolutionSurvivesAFailedWrite(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	st := &flakyStore{Store: db}
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
	st.fail.Store(true)
	require.Error(t, eng.Evaluate(ctx))
	st.fail.Store(false)
	require.NoError(t, eng.Evaluate(ctx))
	require.Equal(t, notify.EventResolved, next())
	require.Empty(t, eng.Alerts())
}
