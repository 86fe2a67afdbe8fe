package klaxon_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
)

// envOf returns a getenv reading only m, so tests never see the machine's
// own MCP_ALERT_* variables.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// fastRule fires on the first evaluation that sees a failed request.
func fastRule(id string, sev alert.Severity) klaxon.Rule {
	return klaxon.Rule{ID: id, Condition: klaxon.Threshold("error_rate", ">", 0.05), Severity: sev, Summary: "Error rate is {{ percent .Value }}"}
}

func TestFromEnv_WebhookURLDeliversToReceiver(t *testing.T) {
	t.Parallel()
	type hook struct {
		id   string
		body map[string]any
	}
	got := make(chan hook, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		got <- hook{id: r.Header.Get("webhook-id"), body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	eng, err := klaxon.New(
		klaxon.FromEnv(),
		klaxon.WithGetenv(envOf(map[string]string{"MCP_ALERT_WEBHOOK_URL": srv.URL + "/hook"})),
		klaxon.WithDataDir(t.TempDir()),
		klaxon.WithRules(fastRule("env_error_rate", alert.Medium)),
	)
	require.NoError(t, err)
	names := []string{}
	for _, h := range eng.Channels() {
		names = append(names, h.Name)
	}
	require.Contains(t, names, "webhook", "MCP_ALERT_WEBHOOK_URL makes the channel named webhook")

	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	<-eng.Ready()

	eng.Metrics().RecordRequest(nil, time.Millisecond, true)
	require.NoError(t, eng.Evaluate(ctx))

	var h hook
	select {
	case h = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook receiver got nothing")
	}
	require.Equal(t, "alert.active", h.body["type"])
	require.Equal(t, h.body["idempotency_key"], h.id, "webhook-id equals idempotency_key")
	alerts, ok := h.body["alerts"].([]any)
	require.True(t, ok)
	require.Len(t, alerts, 1)
	a := alerts[0].(map[string]any)
	require.Equal(t, "env_error_rate", a["rule_id"])
	require.Equal(t, "medium", a["severity"])
	require.Equal(t, "Error rate is 100%", a["summary"])
}

func TestFromEnv_DefaultRoutes(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{
		"MCP_ALERT_WEBHOOK_URL":           "http://127.0.0.1:1/hook",
		"MCP_ALERT_PAGERDUTY_ROUTING_KEY": "R0UTINGKEY0000000000000000000000",
	})
	eng, err := klaxon.New(
		klaxon.FromEnv(), klaxon.WithGetenv(env), klaxon.WithDataDir(t.TempDir()),
		klaxon.WithRules(fastRule("crit", alert.Critical), fastRule("med", alert.Medium)),
	)
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })

	// Evaluate without Run: transitions are recorded and routed, nothing is
	// sent (no request reaches PagerDuty).
	eng.Metrics().RecordRequest(nil, time.Millisecond, true)
	require.NoError(t, eng.Evaluate(t.Context()))
	byRule := map[string][]string{}
	for _, a := range eng.Alerts() {
		ch := slices.Clone(a.Channels)
		slices.Sort(ch)
		byRule[a.RuleID] = ch
	}
	// A critical alert pages and goes to every other channel.
	require.Equal(t, []string{"console", "pagerduty", "webhook"}, byRule["crit"])
	// A medium alert does not page.
	require.Equal(t, []string{"console", "webhook"}, byRule["med"])
}

func TestFromEnv_Problems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			// An SMTP host without recipients names the missing variable.
			name: "email without recipients",
			env:  map[string]string{"MCP_ALERT_EMAIL_SMTP_HOST": "smtp.example.com", "MCP_ALERT_EMAIL_FROM": "alerts@example.com"},
			want: []string{"MCP_ALERT_EMAIL_TO"},
		},
		{
			// A sender is needed too.
			name: "email without sender",
			env:  map[string]string{"MCP_ALERT_EMAIL_SMTP_HOST": "smtp.example.com", "MCP_ALERT_EMAIL_TO": "ops@example.com"},
			want: []string{"MCP_ALERT_EMAIL_FROM"},
		},
		{
			// A Slack token needs a channel to post to.
			name: "slack token without channel",
			env:  map[string]string{"MCP_ALERT_SLACK_TOKEN": "xoxb-1-2-abc"},
			want: []string{"MCP_ALERT_SLACK_CHANNEL"},
		},
		{
			// A bot token and an incoming webhook contradict each other.
			name: "slack token and webhook",
			env: map[string]string{
				"MCP_ALERT_SLACK_TOKEN": "xoxb-1-2-abc", "MCP_ALERT_SLACK_CHANNEL": "#alerts",
				"MCP_ALERT_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/X",
			},
			want: []string{"MCP_ALERT_SLACK_TOKEN", "MCP_ALERT_SLACK_WEBHOOK_URL"},
		},
		{
			// A port that is not a number is named.
			name: "bad smtp port",
			env: map[string]string{
				"MCP_ALERT_EMAIL_SMTP_HOST": "smtp.example.com", "MCP_ALERT_EMAIL_FROM": "a@example.com",
				"MCP_ALERT_EMAIL_TO": "b@example.com", "MCP_ALERT_EMAIL_SMTP_PORT": "smtp",
			},
			want: []string{"MCP_ALERT_EMAIL_SMTP_PORT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := klaxon.New(klaxon.FromEnv(), klaxon.WithGetenv(envOf(tt.env)), klaxon.WithDataDir(t.TempDir()))
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "xoxb-1-2-abc", "errors never carry a secret")
		})
	}
}
