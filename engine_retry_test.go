package klaxon_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
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

// A channel that stays failing keeps its self-alert open past the 24 h end
// time it was raised with: the leader raises it again from channel health.
func TestEngine_SelfAlertStaysOpenWhileTheChannelFails(t *testing.T) {
	t.Parallel()
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
	}))
	defer gone.Close()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	got := make(chan *notify.Notification, 10)
	other := notify.ChannelFunc(func(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
		got <- n
		return notify.Receipt{}, nil
	})
	eng := startEngine(t, `
channels:
  hook:
    type: webhook
    url: `+gone.URL+`/hook
routes:
  - notify: [hook]
`, klaxon.WithChannel("backup", other), klaxon.WithClock(clock))
	_, err := eng.Manager().Push(t.Context(), []lifecycle.Pushed{{Labels: alert.Labels{"alertname": "x"}, Severity: alert.High}})
	require.NoError(t, err)
	select {
	case n := <-got:
		require.Equal(t, klaxon.SelfAlertName, n.Alert().Labels["alertname"])
	case <-time.After(30 * time.Second):
		t.Fatal("no self-alert")
	}
	selfAlert := func() *alert.Alert {
		for _, a := range eng.Alerts() {
			if a.Labels["alertname"] == klaxon.SelfAlertName {
				return a
			}
		}
		return nil
	}
	require.NotNil(t, selfAlert())

	advance(23 * time.Hour)
	eng.RefreshSelfAlerts(t.Context())
	advance(2 * time.Hour) // past the first end time
	require.NoError(t, eng.Manager().Tick(t.Context()))
	a := selfAlert()
	require.NotNil(t, a, "still open while the channel fails")
	require.True(t, a.EndsAt.After(clock()))
}
