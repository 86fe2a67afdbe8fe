package slack

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// TestBuildMessage_Attachment checks the firing attachment field by field.
func TestBuildMessage_Attachment(t *testing.T) {
	t.Parallel()
	n := testNotification(alert.StateActive, "")
	m := buildMessage(n, time.Time{})

	require.Equal(t, "[CRITICAL] Alert: High error rate - Error rate is 12.5% (threshold 5%)", m.text)
	require.Len(t, m.attachments, 1)
	a := m.attachments[0]
	require.Equal(t, "#FF0000", a.Color)
	require.Equal(t, "Alert: High error rate", a.Title)
	require.Equal(t, n.ExternalURL, a.TitleLink)
	require.Equal(t, "Error rate is 12.5% (threshold 5%)\n"+
		"This is a test notification sent by klaxon test-channel. No action is needed.", a.Text)
	require.Equal(t, "Alert: High error rate (critical): Error rate is 12.5% (threshold 5%)", a.Fallback)
	require.Equal(t, []slack.AttachmentField{
		{Title: "Severity", Value: "critical", Short: true},
		{Title: "State", Value: "active", Short: true},
		{Title: "Server", Value: "web-1", Short: true},
		{Title: "Source", Value: "rule", Short: true},
		{Title: "Value", Value: "0.125 (threshold 0.05)", Short: true},
		{Title: "Labels", Value: "alertname=high_error_rate, env=test, service=checkout", Short: false},
	}, a.Fields)
	require.Equal(t, json.Number(strconv.FormatInt(testNow.Unix(), 10)), a.Ts, "ts is the transition time")
	require.Equal(t, "klaxon · "+string(n.Alerts[0].Fingerprint), a.Footer)
	require.Equal(t, []string{"text"}, a.MarkdownIn)
	require.Equal(t, "klaxon_alert", m.metadata.EventType)
	require.Equal(t, n.IdempotencyKey, m.metadata.EventPayload["idempotency_key"])
}

// TestSeverityColor checks the seed's colour table and the resolved colour.
func TestSeverityColor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		severity alert.Severity
		state    alert.State
		want     string
	}{
		{alert.Critical, alert.StateActive, "#FF0000"},       // red
		{alert.High, alert.StateActive, "#FF8C00"},           // orange
		{alert.Medium, alert.StateActive, "#FFD700"},         // yellow
		{alert.Low, alert.StateActive, "#32CD32"},            // green
		{alert.Info, alert.StateActive, "#87CEEB"},           // blue
		{alert.High, alert.StateAcknowledged, "#FF8C00"},     // acknowledged keeps its severity colour
		{alert.Critical, alert.StateResolved, ColorResolved}, // resolved turns green whatever the severity
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.severity, tt.state), func(t *testing.T) {
			t.Parallel()
			n := testNotification(alert.StateActive, "")
			n.Alerts[0].Severity = tt.severity
			n.Alerts[0].State = tt.state
			m := buildMessage(n, testNow)
			require.Equal(t, tt.want, m.attachments[0].Color)
		})
	}
}

// TestBuildMessage_Escaping checks that user text cannot inject Slack markup
// (links, mentions).
func TestBuildMessage_Escaping(t *testing.T) {
	t.Parallel()
	n := testNotification(alert.StateActive, "")
	a := &n.Alerts[0]
	a.RuleName = "p99 > 500ms & <!channel>"
	a.Summary = "<https://evil.example|click>"
	a.Labels = alert.Labels{"q": "a<b"}
	m := buildMessage(n, testNow)

	require.Equal(t, "[CRITICAL] Alert: p99 &gt; 500ms &amp; &lt;!channel&gt; - &lt;https://evil.example|click&gt;", m.text)
	require.Equal(t, "&lt;https://evil.example|click&gt;\n"+a.Description, m.attachments[0].Text)
	require.Contains(t, m.attachments[0].Fields, slack.AttachmentField{Title: "Labels", Value: "q=a&lt;b"})
}

// TestBuildMessage_Grouped checks that a grouped notification lists every
// alert, and caps the attachments.
func TestBuildMessage_Grouped(t *testing.T) {
	t.Parallel()
	n := groupedNotification(3)
	m := buildMessage(n, testNow)
	require.Equal(t, "[CRITICAL] Alert: High error rate - Error rate is 12.5% (threshold 5%) (+2 more)", m.text)
	require.Len(t, m.attachments, 3)
	for i, att := range m.attachments {
		require.Contains(t, att.Fields, slack.AttachmentField{Title: "Labels",
			Value: fmt.Sprintf("alertname=high_error_rate, env=test, service=checkout-%d", i)})
	}
	require.Equal(t, n.ExternalURL, m.attachments[0].TitleLink)

	big := buildMessage(groupedNotification(maxAlertAttachments+5), testNow)
	require.Len(t, big.attachments, maxAlertAttachments+1)
	require.Equal(t, "… and 5 more alerts", big.attachments[maxAlertAttachments].Text)
}

func groupedNotification(count int) *notify.Notification {
	n := testNotification(alert.StateActive, "")
	first := n.Alerts[0]
	n.Alerts = nil
	for i := range count {
		a := first
		a.Alert = first.Clone()
		a.Labels["service"] = fmt.Sprintf("checkout-%d", i)
		a.Fingerprint = alert.NewFingerprint(a.RuleID, a.Labels)
		n.Alerts = append(n.Alerts, a)
	}
	n.GroupKey = "route-0/high_error_rate"
	return n
}

// TestReplyText checks the thread reply per event.
func TestReplyText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		event notify.Event
		state alert.State
		want  string
	}{
		// An acknowledgement names who and why.
		{"ack", notify.EventAcknowledged, alert.StateAcknowledged, ":eyes: *Acknowledged* by alice: looking into it at 2026-11-03T10:01:00Z"},
		// A resolution.
		{"resolved", notify.EventResolved, alert.StateResolved, ":white_check_mark: *Resolved* at 2026-11-03T10:05:00Z"},
		// An escalation step.
		{"escalated", notify.EventEscalated, alert.StateActive, ":rotating_light: *Escalated*: still not acknowledged at 2026-11-03T10:00:00Z"},
		// A renotification.
		{"renotify", notify.EventRenotify, alert.StateActive, ":bell: *Still firing* at 2026-11-03T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := testNotification(tt.state, "")
			n.Event = tt.event
			require.Equal(t, tt.want, buildMessage(n, testNow).reply)
		})
	}
}

// TestPayload_Golden pins the wire payloads: the webhook body and the first
// Web API post, per case.
func TestPayload_Golden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		webhook bool
		n       *notify.Notification
	}{
		// Web API: the first post of a firing alert.
		{"api_firing", false, testNotification(alert.StateActive, "")},
		// Webhook: a firing alert.
		{"webhook_firing", true, testNotification(alert.StateActive, "")},
		// Webhook: acknowledged by alice.
		{"webhook_acknowledged", true, testNotification(alert.StateAcknowledged, "")},
		// Webhook: resolved.
		{"webhook_resolved", true, testNotification(alert.StateResolved, "")},
		// Webhook: a group of three alerts.
		{"webhook_grouped", true, groupedNotification(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := wirePayload(t, tt.webhook, tt.n)
			path := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create it")
			require.JSONEq(t, string(want), string(got))
		})
	}
}

// wirePayload sends n and returns the request body as indented JSON (the
// Web API form is turned into an object, its JSON fields decoded).
func wirePayload(t *testing.T, webhook bool, n *notify.Notification) []byte {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if webhook {
			_, _ = w.Write([]byte("ok"))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true,"channel":"C0ALERTS","ts":"1793786400.000100"}`))
	}))
	t.Cleanup(srv.Close)
	var ch *Channel
	var rec *recordingTransport
	if webhook {
		ch, rec = newWebhookChannel(t, srv.URL+"/services/T/B/x")
	} else {
		var client *http.Client
		client, rec = newRecordingClient(t)
		ch = newAPIChannel(t, srv.URL, client)
	}
	_, err := ch.Send(t.Context(), n)
	require.NoError(t, err)
	calls := rec.Calls()
	require.Len(t, calls, 1)
	var v any
	if webhook {
		require.NoError(t, json.Unmarshal(calls[0].Body, &v))
	} else {
		obj := map[string]any{}
		for k, vals := range calls[0].Form {
			if k == "token" {
				continue
			}
			var decoded any
			if k == "attachments" || k == "metadata" {
				require.NoError(t, json.Unmarshal([]byte(vals[0]), &decoded))
			} else {
				decoded = vals[0]
			}
			obj[k] = decoded
		}
		v = obj
	}
	out, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	return out
}
