package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// minimalConfig is DESIGN.md's minimal file as written, plus a console
// channel on the route; the tests override listen and data_dir.
const minimalConfig = `server:
  listen: 127.0.0.1:9095
  data_dir: ./klaxon-data
evaluation_interval: 1s
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
  console:
    type: console
rules:
  - id: high_error_rate
    condition: error_rate > 0.05
    for: 0s
    severity: critical
    summary: "Error rate is {{ .Value }}"
routes:
  - notify: [ops, console]
`

// TestMinimalConfigFlow: on the minimal file, pushing error_rate 0.2 makes
// high_error_rate active and pushing 0.0 resolves it.
func TestMinimalConfigFlow(t *testing.T) {
	t.Parallel()
	c := startEngine(t, minimalConfig)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	require.NoError(t, c.PushMetrics(ctx, []klaxontest.Sample{{Name: "error_rate", Value: 0.2}}))
	var firing klaxontest.APIAlert
	eventually(t, 30*time.Second, "high_error_rate active", func() bool {
		list, err := c.Alerts(ctx, "")
		require.NoError(t, err)
		for _, a := range list {
			if a.RuleID == "high_error_rate" && a.State == "active" {
				firing = a
				return true
			}
		}
		return false
	})
	require.Equal(t, "critical", firing.Severity)
	require.InDelta(t, 0.2, firing.Value, 1e-9)
	require.Contains(t, firing.Summary, "0.2")

	require.NoError(t, c.PushMetrics(ctx, []klaxontest.Sample{{Name: "error_rate", Value: 0.0}}))
	eventually(t, 30*time.Second, "high_error_rate resolved", func() bool {
		var a klaxontest.APIAlert
		require.NoError(t, c.Do(ctx, http.MethodGet, "/api/v1/alerts/"+firing.ID, nil, &a))
		return a.State == "resolved"
	})
	open, err := c.Alerts(ctx, "")
	require.NoError(t, err)
	for _, a := range open {
		require.NotEqual(t, firing.ID, a.ID, "a resolved alert is not listed by default")
	}
}

// TestRestartKeepsState: after a SIGKILL and a restart, the same alerts are
// in the same states (active, acknowledged, suppressed) and the silence is
// intact.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, klaxontest.ReceiverConfig{})
	p := startProcess(t, "channels:\n"+webhookYAML("ops", recv.URL()+"/hook")+"routes:\n  - notify: [ops]\n")
	c := klaxontest.NewClient(p.URL())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	_, err := c.AddSilence(ctx, []klaxontest.SilenceMatcher{{Name: "id", Op: "=", Value: "st-silenced"}}, time.Hour, "e2e", "maintenance")
	require.NoError(t, err)
	pushed, err := c.PushAlerts(ctx, []klaxontest.PushAlert{
		{Labels: map[string]string{"id": "st-active"}, Severity: "high", Summary: "stays active"},
		{Labels: map[string]string{"id": "st-acked"}, Severity: "critical", Summary: "gets acked"},
		{Labels: map[string]string{"id": "st-silenced"}, Severity: "low", Summary: "silenced"},
	})
	require.NoError(t, err)
	require.Len(t, pushed, 3)
	_, err = c.Ack(ctx, pushed[1].ID, "alice")
	require.NoError(t, err)

	want := map[string]string{pushed[0].ID: "active", pushed[1].ID: "acknowledged", pushed[2].ID: "suppressed"}
	var before map[string]klaxontest.APIAlert
	eventually(t, 30*time.Second, "alerts in their states", func() bool {
		before = alertsByID(ctx, t, c)
		for id, st := range want {
			if before[id].State != st {
				return false
			}
		}
		return true
	})
	silencesBefore := silences(ctx, t, c)
	require.Len(t, silencesBefore, 1)

	require.NoError(t, p.Kill())
	require.NoError(t, p.Restart(ctx))

	after := alertsByID(ctx, t, c)
	for id, st := range want {
		require.Equal(t, st, after[id].State, "state of %s after restart", id)
		require.Equal(t, before[id].Fingerprint, after[id].Fingerprint)
		require.Equal(t, before[id].Labels, after[id].Labels)
		require.Equal(t, before[id].Sequence, after[id].Sequence, "no transition happened across the restart")
	}
	require.Equal(t, "alice", after[pushed[1].ID].AcknowledgedBy)
	require.Equal(t, silencesBefore, silences(ctx, t, c), "silence intact")
}

func alertsByID(ctx context.Context, t *testing.T, c *klaxontest.Client) map[string]klaxontest.APIAlert {
	t.Helper()
	list, err := c.Alerts(ctx, "")
	require.NoError(t, err)
	out := map[string]klaxontest.APIAlert{}
	for _, a := range list {
		out[a.ID] = a
	}
	return out
}

func silences(ctx context.Context, t *testing.T, c *klaxontest.Client) []map[string]any {
	t.Helper()
	raw, err := c.Silences(ctx)
	require.NoError(t, err)
	var out struct {
		Silences []map[string]any `json:"silences"`
	}
	require.NoError(t, json.Unmarshal(raw, &out))
	return out.Silences
}
