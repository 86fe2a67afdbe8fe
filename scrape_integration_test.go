package klaxon_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
)

// A rule over a scraped metric fires with the series' and the target's
// labels, and resolves when the exporter's value drops.
func TestEngine_RuleOverScrapedMetric(t *testing.T) {
	t.Parallel()
	var depth atomic.Int64
	depth.Store(50)
	exp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("# TYPE queue_depth gauge\nqueue_depth{queue=\"jobs\"} " + strconv.FormatInt(depth.Load(), 10) + "\n"))
	}))
	defer exp.Close()
	eng := startEngine(t, `
evaluation_interval: 1h
scrape:
  - url: `+exp.URL+`/metrics
    interval: 1s
    labels: {job: worker}
rules:
  - id: deep_queue
    condition: queue_depth > 10
    for: 0s
    severity: high
`)
	ctx := t.Context()
	require.Eventually(t, func() bool {
		require.NoError(t, eng.Evaluate(ctx))
		return len(eng.Alerts()) == 1
	}, 10*time.Second, 50*time.Millisecond)
	a := eng.Alerts()[0]
	require.Equal(t, alert.StateActive, a.State)
	require.Equal(t, "jobs", a.Labels["queue"])
	require.Equal(t, "worker", a.Labels["job"])
	require.Equal(t, exp.Listener.Addr().String(), a.Labels["instance"])
	require.Equal(t, 50.0, a.Value)

	depth.Store(3)
	require.Eventually(t, func() bool {
		require.NoError(t, eng.Evaluate(ctx))
		return len(eng.Alerts()) == 0
	}, 10*time.Second, 50*time.Millisecond, "the alert did not resolve when the exporter's value dropped")
}
