package klaxon_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// A channel that keeps failing does not re-push its self-alert while its
// circuit cycles open -> half-open -> open: nothing about where it fails
// changed, so no "deduplicated" rows pile up in the delivery log (the
// 10-minute refresh carries the circuit state into the description).
func TestEngine_CircuitCyclingDoesNotRepushTheSelfAlert(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	blackhole := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select { // never answers: the attempt times out
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer blackhole.Close()
	defer close(stop)
	yml := `
channels:
  hook:
    type: webhook
    url: ` + blackhole.URL + `/hook
    retry: {timeout: 200ms, initial_backoff: 20ms, max_backoff: 50ms, max_age: 1h}
    breaker: {failures: 1, open_for: 200ms}
routes:
  - notify: [hook]
`
	lo := klaxon.LoadOptions(func(string) string { return "" })
	lo.KnownChannels = []string{"backup"}
	cfg, err := config.Parse("test.yml", []byte(yml), lo)
	require.NoError(t, err)
	backup := notify.ChannelFunc(func(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
		return notify.Receipt{}, nil
	})
	eng, err := klaxon.New(klaxon.WithConfig(cfg), klaxon.WithDataDir(t.TempDir()), klaxon.WithChannel("backup", backup))
	require.NoError(t, err)
	// The 5 s reconcile, faster (the board timings do not matter on SQLite).
	eng.SetBoardTiming(50*time.Millisecond, time.Second, 10*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = eng.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-eng.Ready()

	_, err = eng.Manager().Push(t.Context(), []lifecycle.Pushed{{Labels: alert.Labels{"alertname": "x"}, Severity: alert.High}})
	require.NoError(t, err)
	selfAlert := func() *alert.Alert { return openSelfAlert(eng, "") }
	require.Eventually(t, func() bool { return selfAlert() != nil }, 20*time.Second, 10*time.Millisecond)
	id := selfAlert().ID
	dedups := func() int {
		ds, err := eng.Store().DeliveryList(t.Context(), &store.DeliveryListParams{AlertID: id})
		require.NoError(t, err)
		n := 0
		for _, d := range ds {
			if d.Outcome == store.OutcomeDeduplicated {
				n++
			}
		}
		return n
	}
	before := dedups()
	var circuits []string
	for range 60 {
		time.Sleep(50 * time.Millisecond)
		for _, h := range eng.Channels() {
			if h.Name == "hook" {
				require.False(t, h.Healthy, "hook fails the whole time")
				if len(circuits) == 0 || circuits[len(circuits)-1] != h.Circuit {
					circuits = append(circuits, h.Circuit)
				}
			}
		}
	}
	t.Logf("hook's circuit meanwhile: %v", circuits)
	require.Equal(t, before, dedups(),
		"the self-alert was pushed again although the channel failed on the same replica all along")
}
