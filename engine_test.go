package klaxon_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
)

// hook is a webhook receiver that keeps every body.
type hook struct {
	mu     sync.Mutex
	bodies []map[string]any
	ids    []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	h.mu.Lock()
	h.bodies = append(h.bodies, m)
	h.ids = append(h.ids, r.Header.Get("webhook-id"))
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hook) types() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, b := range h.bodies {
		out = append(out, b["type"].(string))
	}
	return out
}

func startEngine(t *testing.T, yml string, opts ...klaxon.Option) *klaxon.Engine {
	t.Helper()
	lo := klaxon.LoadOptions(func(string) string { return "" })
	lo.KnownChannels = []string{"dba", "everyone", "backup"} // defined in Go by some tests
	cfg, err := config.Parse("test.yml", []byte(yml), lo)
	require.NoError(t, err)
	all := append([]klaxon.Option{klaxon.WithConfig(cfg), klaxon.WithDataDir(t.TempDir()), klaxon.WithListen("127.0.0.1:0")}, opts...)
	eng, err := klaxon.New(all...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = eng.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-eng.Ready()
	return eng
}

func TestEngine_RuleFiresAndResolvesThroughWebhook(t *testing.T) {
	t.Parallel()
	h := &hook{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	eng := startEngine(t, `
evaluation_interval: 1h
channels:
  ops:
    type: webhook
    url: `+srv.URL+`/hook
rules:
  - id: queue_too_long
    condition: queue_length > 100
    severity: high
    summary: "Queue holds {{ .Value }} jobs"
routes:
  - notify: [ops]
`)
	ctx := context.Background()
	require.NoError(t, eng.Metrics().Push("queue_length", nil, 250, time.Now()))
	require.NoError(t, eng.Evaluate(ctx))
	alerts := eng.Alerts()
	require.Len(t, alerts, 1)
	require.Equal(t, alert.StateActive, alerts[0].State)
	require.Equal(t, "Queue holds 250 jobs", alerts[0].Summary)
	require.Eventually(t, func() bool { return len(h.types()) == 1 }, 10*time.Second, 5*time.Millisecond)

	require.NoError(t, eng.Metrics().Push("queue_length", nil, 3, time.Now()))
	require.NoError(t, eng.Evaluate(ctx))
	require.Empty(t, eng.Alerts())
	require.Eventually(t, func() bool { return len(h.types()) == 2 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"alert.active", "alert.resolved"}, h.types())
	h.mu.Lock()
	require.NotEqual(t, h.ids[0], h.ids[1], "each transition has its own idempotency key")
	require.False(t, strings.Contains(h.ids[0], "."))
	h.mu.Unlock()

	// The HTTP API serves the same engine.
	resp, err := http.Get("http://" + eng.Addr() + "/api/v1/alerts?state=resolved")
	require.NoError(t, err)
	defer resp.Body.Close()
	var res struct {
		Alerts []alert.Alert `json:"alerts"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
	require.Len(t, res.Alerts, 1)
	require.Equal(t, "queue_too_long", res.Alerts[0].RuleID)
}

func TestEngine_GoChannelAndProvider(t *testing.T) {
	t.Parallel()
	got := make(chan *notify.Notification, 10)
	ch := notify.ChannelFunc(func(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
		got <- n
		return notify.Receipt{}, nil
	})
	var depth = 0.0
	var mu sync.Mutex
	eng, err := klaxon.New(
		klaxon.WithDataDir(t.TempDir()),
		klaxon.WithRules(klaxon.Rule{ID: "backlog", Condition: klaxon.Threshold("backlog", ">", 10), Severity: alert.Critical}),
		klaxon.WithChannel("mine", ch),
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

	mu.Lock()
	depth = 42
	mu.Unlock()
	require.NoError(t, eng.Evaluate(ctx))
	select {
	case n := <-got:
		require.Equal(t, notify.EventActive, n.Event)
		require.Equal(t, "backlog", n.Alert().RuleID)
		require.InDelta(t, 42, n.Alert().Value, 1e-9)
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
}

type providerFunc func(name string) (float64, bool)

func (f providerFunc) Value(name string) (float64, bool)      { return f(name) }
func (f providerFunc) Metadata(name string) map[string]string { return nil }

func TestEngine_BadRuleIsAnError(t *testing.T) {
	t.Parallel()
	_, err := klaxon.New(klaxon.WithDataDir(t.TempDir()),
		klaxon.WithRules(klaxon.Rule{ID: "x", Condition: klaxon.Threshold("error_rate", "=>", 0.05)}))
	require.ErrorContains(t, err, `rule "x": condition "error_rate => 0.05"`)
	require.ErrorContains(t, err, "col")
	_, err = klaxon.New(klaxon.WithDataDir(t.TempDir()),
		klaxon.WithRules(klaxon.Rule{ID: "x", Condition: "a > 1", Channels: []string{"nope"}}))
	require.ErrorContains(t, err, `unknown channel "nope"`)
}

func TestEngine_TokenRequiredBeyondLoopback(t *testing.T) {
	t.Parallel()
	_, err := klaxon.New(klaxon.WithDataDir(t.TempDir()), klaxon.WithListen("0.0.0.0:0"))
	require.ErrorContains(t, err, "an API token is required when listening beyond loopback")
	_, err = klaxon.New(klaxon.WithDataDir(t.TempDir()), klaxon.WithListen("127.0.0.1:0"), klaxon.WithAPIToken(" \n"))
	require.ErrorContains(t, err, "the token is blank", "a token of blanks is refused, not taken as none")
	eng, err := klaxon.New(klaxon.WithDataDir(t.TempDir()), klaxon.WithListen("0.0.0.0:0"), klaxon.WithAPIToken("t0ken"))
	require.NoError(t, err)
	require.NoError(t, eng.Close())
	eng, err = klaxon.New(klaxon.WithDataDir(t.TempDir()), klaxon.WithListen("localhost:0"))
	require.NoError(t, err)
	require.NoError(t, eng.Close())
}

// A webhook answering 410 Gone is disabled and klaxon raises its own alert
// on another channel.
// startWithGoneHook starts an engine whose only routed channel "hook"
// answers 410 Gone and whose channel "backup" (defined in Go) records what
// it gets; it pushes one alert and waits for the self-alert about hook on
// backup.
func startWithGoneHook(t *testing.T, opts ...klaxon.Option) *klaxon.Engine {
	t.Helper()
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
	}))
	t.Cleanup(gone.Close)
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
`, append([]klaxon.Option{klaxon.WithChannel("backup", other)}, opts...)...)
	_, err := eng.Manager().Push(t.Context(), []lifecycle.Pushed{{Labels: alert.Labels{"alertname": "x"}, Severity: alert.High}})
	require.NoError(t, err)
	select {
	case n := <-got:
		require.Equal(t, klaxon.SelfAlertName, n.Alert().Labels["alertname"])
		require.Equal(t, "hook", n.Alert().Labels["channel"])
		require.Contains(t, n.Alert().Description, "gone")
	case <-time.After(30 * time.Second):
		t.Fatal("no self-alert")
	}
	return eng
}

func TestEngine_GoneEndpointRaisesSelfAlert(t *testing.T) {
	t.Parallel()
	eng := startWithGoneHook(t)
	var hook notify.ChannelHealth
	for _, h := range eng.Channels() {
		if h.Name == "hook" {
			hook = h
		}
	}
	require.True(t, hook.Disabled, "a gone endpoint is disabled")
	require.False(t, hook.Healthy)
}

// Routes from the file: severity and label matchers pick the channel.
func TestEngine_RoutesFromConfig(t *testing.T) {
	t.Parallel()
	got := make(chan string, 10)
	mk := func(name string) notify.Channel {
		return notify.ChannelFunc(func(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
			got <- name + ":" + n.Alert().Labels["alertname"]
			return notify.Receipt{}, nil
		})
	}
	eng := startEngine(t, `
routes:
  - match:
      severity: ">= high"
      label_matchers: ['team=~"db.*"']
    notify: [dba]
  - notify: [everyone]
`, klaxon.WithChannel("dba", mk("dba")), klaxon.WithChannel("everyone", mk("everyone")))
	_, err := eng.Manager().Push(t.Context(), []lifecycle.Pushed{
		{Labels: alert.Labels{"alertname": "a", "team": "dbops"}, Severity: alert.Critical},
		{Labels: alert.Labels{"alertname": "b", "team": "dbops"}, Severity: alert.Low},
		{Labels: alert.Labels{"alertname": "c", "team": "web"}, Severity: alert.Critical},
	})
	require.NoError(t, err)
	var seen []string
	for range 3 {
		select {
		case s := <-got:
			seen = append(seen, s)
		case <-time.After(20 * time.Second):
			t.Fatalf("got only %v", seen)
		}
	}
	require.ElementsMatch(t, []string{"dba:a", "everyone:b", "everyone:c"}, seen)
}

// A restarted engine still resolves the alerts its rules opened before the
// restart, and resolves those of rules that are gone.
func TestEngine_RestartResolvesRestoredAlerts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := func(rules ...klaxon.Rule) *klaxon.Engine {
		eng, err := klaxon.New(klaxon.WithDataDir(dir), klaxon.WithRules(rules...))
		require.NoError(t, err)
		return eng
	}
	queue := klaxon.Rule{ID: "queue_long", Condition: "queue_length > 100", Labels: alert.Labels{"team": "ops"}}
	other := klaxon.Rule{ID: "other", Condition: "other_metric > 1"}
	eng := open(queue, other)
	require.NoError(t, eng.Metrics().Push("queue_length", alert.Labels{"q": "mail"}, 500, time.Now()))
	require.NoError(t, eng.Metrics().Push("other_metric", nil, 5, time.Now()))
	require.NoError(t, eng.Evaluate(t.Context()))
	require.Len(t, eng.Alerts(), 2)
	require.NoError(t, eng.Close())

	// Restart without the "other" rule: its alert resolves at once.
	eng = open(queue)
	defer eng.Close()
	require.Len(t, eng.Alerts(), 1)
	require.Equal(t, "queue_long", eng.Alerts()[0].RuleID)
	// No data yet: the alert keeps its state.
	require.NoError(t, eng.Evaluate(t.Context()))
	require.Len(t, eng.Alerts(), 1)
	// The condition clears: the restored alert resolves.
	require.NoError(t, eng.Metrics().Push("queue_length", alert.Labels{"q": "mail"}, 3, time.Now()))
	require.NoError(t, eng.Evaluate(t.Context()))
	require.Empty(t, eng.Alerts())
}

// With a single channel, the alert about it failing notifies nobody: it is
// listed, but never sent to the channel it is about, however the routes,
// failover chains and escalation steps name that channel.
func TestEngine_SelfAlertNeverGoesToItsChannel(t *testing.T) {
	t.Parallel()
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
	}))
	t.Cleanup(gone.Close)
	eng := startEngine(t, `
channels:
  hook:
    type: webhook
    url: `+gone.URL+`/hook
routes:
  - notify: [hook]
    failover: [hook]
    escalate: [{after: 1ms, notify: [hook]}]
`)
	_, err := eng.Manager().Push(t.Context(), []lifecycle.Pushed{{Labels: alert.Labels{"alertname": "x"}, Severity: alert.High}})
	require.NoError(t, err)
	selfAlert := func() *alert.Alert { return openSelfAlert(eng, "") }
	require.Eventually(t, func() bool { return selfAlert() != nil }, 30*time.Second, 10*time.Millisecond,
		"the self-alert is raised")
	require.Empty(t, selfAlert().Channels, "it notifies nobody")
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, eng.Manager().Tick(t.Context())) // past the escalation step's after
	a := selfAlert()
	require.Empty(t, a.Channels, "the escalation step does not add the channel either")
	require.NotEqual(t, alert.StateResolved, a.State)
}

// openSelfAlert returns eng's open self-alert about channel (any channel
// when empty), or nil.
func openSelfAlert(eng *klaxon.Engine, channel string) *alert.Alert {
	for _, a := range eng.Alerts() {
		if a.Labels["alertname"] == klaxon.SelfAlertName && (channel == "" || a.Labels["channel"] == channel) {
			return a
		}
	}
	return nil
}
