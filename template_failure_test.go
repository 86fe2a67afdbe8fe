package klaxon_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// recorder is a channel that keeps every notification it is sent.
type recorder struct {
	mu   sync.Mutex
	got  []*notify.Notification
	wake chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 64)} }

func (r *recorder) Send(_ context.Context, n *notify.Notification) (notify.Receipt, error) {
	r.mu.Lock()
	r.got = append(r.got, n)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return notify.Receipt{}, nil
}

// waitFor blocks until a notification satisfies ok, and returns it.
func (r *recorder) waitFor(t *testing.T, what string, ok func(*notify.Notification) bool) *notify.Notification {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		for _, n := range r.got {
			if ok(n) {
				r.mu.Unlock()
				return n
			}
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("no notification: %s", what)
		}
	}
}

func TestEngine_TemplateFailureStillDelivers(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	reg := prometheus.NewRegistry()
	eng, err := klaxon.New(
		klaxon.WithDataDir(t.TempDir()),
		klaxon.WithPrometheus(reg, reg),
		klaxon.WithChannel("rec", rec),
		// .Nope parses but cannot run: alert data has no such field.
		klaxon.WithRules(klaxon.Rule{
			ID: "broken", Name: "Broken template", Condition: klaxon.Threshold("error_rate", ">", 0.05),
			Severity: alert.High, Summary: "rate {{ .Nope }}",
		}),
	)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	<-eng.Ready()

	eng.Metrics().RecordRequest(nil, time.Millisecond, true)
	require.NoError(t, eng.Evaluate(ctx))

	// The rule's alert goes out with the built-in text.
	n := rec.waitFor(t, "the broken rule's alert", func(n *notify.Notification) bool {
		return n.Alert().RuleID == "broken" && n.Event == notify.EventActive
	})
	require.Equal(t, "Broken template: error_rate > 0.05 is 1", n.Alert().Summary)

	// The self-alert names the template.
	self := rec.waitFor(t, "the template self-alert", func(n *notify.Notification) bool {
		return n.Alert().Labels["alertname"] == klaxon.TemplateFailedName
	})
	require.Equal(t, notify.EventActive, self.Event)
	require.Equal(t, "broken.summary", self.Alert().Labels["template"])
	require.Equal(t, alert.Medium, self.Alert().Severity)
	require.Contains(t, self.Alert().Description, "Nope")

	// Counted in the engine's registry.
	require.GreaterOrEqual(t, counterValue(t, reg, "klaxon_template_failures_total"), 1.0)

	// More failures of the same template raise nothing new.
	eng.Metrics().RecordRequest(nil, time.Millisecond, true)
	require.NoError(t, eng.Evaluate(ctx))
	selfAlerts := 0
	for _, a := range eng.Alerts() {
		if a.Labels["alertname"] == klaxon.TemplateFailedName {
			selfAlerts++
		}
	}
	require.Equal(t, 1, selfAlerts)
}

// counterValue reads a counter by name from a gatherer.
func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s is not registered", name)
	return 0
}
