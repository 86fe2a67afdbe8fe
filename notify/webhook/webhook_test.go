package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/internal/version"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

func TestChannel_Type(t *testing.T) {
	t.Parallel()
	ch := newChannel(t, Config{URL: secret.New("http://127.0.0.1:1/hook")})
	require.Equal(t, "webhook", ch.Type())
	require.Equal(t, "ops", ch.Name())
}

func TestChannel_Send_KlaxonPayload(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		golden string
		notif  func() *notify.Notification
		check  func(t *testing.T, n *notify.Notification, body map[string]any)
	}{
		{
			// A single alert becoming active: every field of the contract.
			name:   "active",
			golden: "klaxon_active",
			notif:  activeNotification,
			check: func(t *testing.T, n *notify.Notification, body map[string]any) {
				require.Equal(t, "alert.active", body["type"])
				require.Equal(t, "2026-11-20T10:00:00Z", body["timestamp"])
				require.Equal(t, n.IdempotencyKey, body["idempotency_key"])
				require.Equal(t, string(n.Alerts[0].Fingerprint), body["group_key"], "ungrouped: the fingerprint")
				require.Equal(t, "firing", body["status"])
				require.Equal(t, "ops", body["channel"])
				require.Equal(t, n.ExternalURL, body["external_url"])
				alerts := body["alerts"].([]any)
				require.Len(t, alerts, 1)
				a := alerts[0].(map[string]any)
				require.Equal(t, "01JD0000000000000000000001", a["id"])
				require.Equal(t, string(n.Alerts[0].Fingerprint), a["fingerprint"])
				require.Equal(t, "high_error_rate", a["rule_id"])
				require.Equal(t, "active", a["state"])
				require.Equal(t, "pending", a["previous_state"])
				require.EqualValues(t, 2, a["sequence"])
				require.Equal(t, "critical", a["severity"])
				require.Equal(t, "Error rate is 12.5%", a["summary"])
				require.Equal(t, map[string]any{"service": "checkout", "env": "prod"}, a["labels"])
				require.Equal(t, map[string]any{"region": "eu-west-1"}, a["metadata"])
				require.InDelta(t, 0.125, a["value"], 1e-12)
				require.InDelta(t, 0.05, a["threshold"], 1e-12)
				require.Equal(t, "2026-11-20T09:58:00Z", a["started_at"])
				require.Nil(t, a["acknowledged_at"])
				require.Nil(t, a["resolved_at"])
			},
		},
		{
			// An acknowledgement: still firing, who and when are carried.
			name:   "acknowledged",
			golden: "klaxon_acknowledged",
			notif:  acknowledgedNotification,
			check: func(t *testing.T, n *notify.Notification, body map[string]any) {
				require.Equal(t, "alert.acknowledged", body["type"])
				require.Equal(t, "firing", body["status"])
				_, hasURL := body["external_url"]
				require.False(t, hasURL, "no external URL configured")
				a := body["alerts"].([]any)[0].(map[string]any)
				require.Equal(t, "acknowledged", a["state"])
				require.Equal(t, "active", a["previous_state"])
				require.Equal(t, "alice", a["acknowledged_by"])
				require.Equal(t, "2026-11-20T10:01:00Z", a["acknowledged_at"])
				require.EqualValues(t, 3, a["sequence"])
			},
		},
		{
			// A grouped resolution: two alerts, group key from the route,
			// nil maps sent as empty objects.
			name:   "resolved group",
			golden: "klaxon_resolved_group",
			notif:  resolvedGroupNotification,
			check: func(t *testing.T, n *notify.Notification, body map[string]any) {
				require.Equal(t, "alert.resolved", body["type"])
				require.Equal(t, "resolved", body["status"])
				require.Equal(t, n.GroupKey, body["group_key"])
				require.Equal(t, "team pager", body["channel"])
				alerts := body["alerts"].([]any)
				require.Len(t, alerts, 2)
				b := alerts[1].(map[string]any)
				require.Equal(t, "resolved", b["state"])
				require.Equal(t, "2026-11-20T10:04:00Z", b["resolved_at"])
				require.Equal(t, map[string]any{}, b["annotations"])
				require.Nil(t, b["threshold"])
				require.Equal(t, "", b["rule_id"])
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, nil)
			ch := newChannel(t, Config{URL: secret.New(rcv.URL + "/hook")}, fixedClock(t0.Add(time.Hour)))
			n := tt.notif()
			receipt, err := ch.Send(t.Context(), n)
			require.NoError(t, err)
			require.Equal(t, notify.Receipt{StatusCode: 200, Detail: "200 OK"}, receipt)

			req := rcv.next(t)
			require.Equal(t, http.MethodPost, req.Method)
			require.Equal(t, "/hook", req.Path)
			require.Equal(t, "application/json", req.Header.Get("Content-Type"))
			require.Equal(t, "klaxon/"+version.Version, req.Header.Get("User-Agent"))
			require.Equal(t, n.IdempotencyKey, req.Header.Get(HeaderID))
			require.Equal(t, strconv.FormatInt(t0.Add(time.Hour).Unix(), 10), req.Header.Get(HeaderTimestamp))
			require.Empty(t, req.Header.Get(HeaderSignature), "no secret, no signature")
			requireSchema(t, req.Body)
			requireGolden(t, tt.golden, req.Body)
			tt.check(t, n, decode(t, req.Body))
		})
	}
}

func TestSchema_RejectsBadBodies(t *testing.T) {
	t.Parallel()
	good, err := json.Marshal(klaxonPayload(activeNotification(), "k-1-ops", t0))
	require.NoError(t, err)
	requireSchema(t, good)

	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		// alerts is required and never empty.
		{"no alerts", func(m map[string]any) { m["alerts"] = []any{} }},
		// status is an enum.
		{"bad status", func(m map[string]any) { m["status"] = "burning" }},
		// The key is a webhook-id, so it cannot contain '.'.
		{"dot in key", func(m map[string]any) { m["idempotency_key"] = "a.b" }},
		// timestamp must be RFC 3339.
		{"bad timestamp", func(m map[string]any) { m["timestamp"] = "yesterday" }},
		// Alerts need a valid state.
		{"bad state", func(m map[string]any) { m["alerts"].([]any)[0].(map[string]any)["state"] = "on fire" }},
		// Undocumented fields are caught, so the schema stays complete.
		{"unknown field", func(m map[string]any) { m["extra"] = 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := decode(t, good)
			tt.mutate(m)
			b, err := json.Marshal(m)
			require.NoError(t, err)
			require.Error(t, schemaError(t, b))
		})
	}
}

func TestChannel_Send_AlertmanagerPayload(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		golden string
		notif  func() *notify.Notification
		check  func(t *testing.T, body map[string]any)
	}{
		{
			// One firing alert: alertname, severity, summary are added.
			name:   "firing",
			golden: "alertmanager_firing",
			notif:  activeNotification,
			check: func(t *testing.T, body map[string]any) {
				require.Equal(t, "4", body["version"])
				require.Equal(t, "firing", body["status"])
				require.Equal(t, "ops", body["receiver"])
				require.EqualValues(t, 0, body["truncatedAlerts"])
				require.Equal(t, "https://klaxon.example.com/alerts/01JD0000000000000000000001", body["externalURL"])
				labels := map[string]any{"alertname": "high_error_rate", "service": "checkout", "env": "prod", "severity": "critical"}
				require.Equal(t, labels, body["commonLabels"])
				require.Equal(t, labels, body["groupLabels"])
				require.Equal(t, map[string]any{
					"summary":     "Error rate is 12.5%",
					"description": "checkout fails one request in eight",
					"runbook_url": "https://example.com/runbook",
				}, body["commonAnnotations"])
				a := body["alerts"].([]any)[0].(map[string]any)
				require.Equal(t, "firing", a["status"])
				require.Equal(t, labels, a["labels"])
				require.Equal(t, "2026-11-20T09:59:00Z", a["startsAt"], "from active_at")
				require.Equal(t, "0001-01-01T00:00:00Z", a["endsAt"])
				require.Equal(t, "https://klaxon.example.com/alerts/01JD0000000000000000000001", a["generatorURL"])
				require.Len(t, a["fingerprint"], 32)
			},
		},
		{
			// A grouped resolution: common labels are the shared ones only.
			name:   "resolved group",
			golden: "alertmanager_resolved_group",
			notif:  resolvedGroupNotification,
			check: func(t *testing.T, body map[string]any) {
				require.Equal(t, "resolved", body["status"])
				require.Equal(t, `{}:{env="prod", service="checkout"}`, body["groupKey"])
				require.Equal(t, map[string]any{"service": "checkout", "env": "prod"}, body["commonLabels"])
				require.Equal(t, map[string]any{}, body["commonAnnotations"])
				alerts := body["alerts"].([]any)
				require.Len(t, alerts, 2)
				b := alerts[1].(map[string]any)
				require.Equal(t, "resolved", b["status"])
				require.Equal(t, "2026-11-20T10:04:00Z", b["endsAt"])
				require.Equal(t, map[string]any{"service": "checkout", "env": "prod", "disk": "/var", "severity": "high"}, b["labels"],
					"pushed alerts have no rule, so no alertname")
				require.Equal(t, map[string]any{"summary": "disk almost full"}, b["annotations"])
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, nil)
			ch := newChannel(t, Config{URL: secret.New(rcv.URL), Format: FormatAlertmanager})
			n := tt.notif()
			_, err := ch.Send(t.Context(), n)
			require.NoError(t, err)
			req := rcv.next(t)
			require.Equal(t, "application/json", req.Header.Get("Content-Type"))
			require.Equal(t, n.IdempotencyKey, req.Header.Get(HeaderID), "webhook-id is sent in every format")
			requireGolden(t, tt.golden, req.Body)
			tt.check(t, decode(t, req.Body))
		})
	}
}

func TestChannel_Send_MethodAndHeaders(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	ch := newChannel(t, Config{
		URL:    secret.New(rcv.URL + "/in?x=1"),
		Method: "put",
		Headers: map[string]secret.String{
			"Authorization": secret.New("Bearer abc123"),
			"X-Team":        secret.New("sre"),
		},
	})
	receipt, err := ch.Send(t.Context(), activeNotification())
	require.NoError(t, err)
	require.Equal(t, notify.Receipt{StatusCode: 202, Detail: "202 Accepted"}, receipt)
	req := rcv.next(t)
	require.Equal(t, http.MethodPut, req.Method)
	require.Equal(t, "/in?x=1", req.Path)
	require.Equal(t, "Bearer abc123", req.Header.Get("Authorization"))
	require.Equal(t, "sre", req.Header.Get("X-Team"))
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
}

// User info in the URL is sent as basic auth, on the default transport
// and through a caller's client alike; a configured Authorization header
// takes precedence.
func TestChannel_Send_URLUserInfoIsBasicAuth(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	userURL := strings.Replace(rcv.URL, "http://", "http://bot:s%20cret@", 1) + "/in"
	for _, opts := range [][]Option{nil, {WithHTTPClient(&http.Client{})}} {
		ch := newChannel(t, Config{URL: secret.New(userURL)}, opts...)
		_, err := ch.Send(t.Context(), activeNotification())
		require.NoError(t, err)
		req := rcv.next(t)
		user, password, ok := (&http.Request{Header: req.Header}).BasicAuth()
		require.True(t, ok, "basic auth sent")
		require.Equal(t, "bot", user)
		require.Equal(t, "s cret", password)
		require.Equal(t, "/in", req.Path)
	}
	ch := newChannel(t, Config{URL: secret.New(userURL),
		Headers: map[string]secret.String{"Authorization": secret.New("Bearer t0k")}})
	_, err := ch.Send(t.Context(), activeNotification())
	require.NoError(t, err)
	require.Equal(t, "Bearer t0k", rcv.next(t).Header.Get("Authorization"))
}

func TestChannel_Send_HeadersOverrideDefaults(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	ch := newChannel(t, Config{
		URL:          secret.New(rcv.URL),
		Headers:      map[string]secret.String{"content-type": secret.New("text/plain"), "User-Agent": secret.New("custom/1")},
		BodyTemplate: "{{ .Alert.Summary }}",
	})
	_, err := ch.Send(t.Context(), activeNotification())
	require.NoError(t, err)
	req := rcv.next(t)
	require.Equal(t, []string{"text/plain"}, req.Header.Values("Content-Type"))
	require.Equal(t, "custom/1", req.Header.Get("User-Agent"))
	require.Equal(t, "Error rate is 12.5%", string(req.Body))
}

func TestChannel_Send_Signature(t *testing.T) {
	t.Parallel()
	key := testSecret('k', 32)
	rcv := newReceiver(t, nil)
	now := time.Now()
	clock := now
	ch := newChannel(t, Config{URL: secret.New(rcv.URL), Secret: secret.New(key)},
		WithClock(func() time.Time { return clock }))
	wh, err := standardwebhooks.NewWebhook(key)
	require.NoError(t, err)

	n := activeNotification()
	_, err = ch.Send(t.Context(), n)
	require.NoError(t, err)
	first := rcv.next(t)

	// The retry: a later attempt of the same notification.
	clock = now.Add(3 * time.Second)
	n.Attempt = 2
	_, err = ch.Send(t.Context(), n)
	require.NoError(t, err)
	second := rcv.next(t)

	require.Equal(t, n.IdempotencyKey, first.Header.Get(HeaderID))
	require.Equal(t, first.Header.Get(HeaderID), second.Header.Get(HeaderID), "webhook-id is stable across retries")
	require.Equal(t, strconv.FormatInt(now.Unix(), 10), first.Header.Get(HeaderTimestamp))
	require.Equal(t, strconv.FormatInt(now.Add(3*time.Second).Unix(), 10), second.Header.Get(HeaderTimestamp))
	require.NotEqual(t, first.Header.Get(HeaderSignature), second.Header.Get(HeaderSignature), "re-signed per attempt")
	require.NoError(t, wh.Verify(first.Body, first.Header))
	require.NoError(t, wh.Verify(second.Body, second.Header))

	// The signature covers the exact bytes: one changed byte fails.
	tampered := bytes.Replace(second.Body, []byte("12.5%"), []byte("12.6%"), 1)
	require.ErrorIs(t, wh.Verify(tampered, second.Header), standardwebhooks.ErrNoMatchingSignature)
	// A different key fails.
	other, err := standardwebhooks.NewWebhook(testSecret('o', 32))
	require.NoError(t, err)
	require.ErrorIs(t, other.Verify(first.Body, first.Header), standardwebhooks.ErrNoMatchingSignature)
}

func TestChannel_Send_SignatureRotation(t *testing.T) {
	t.Parallel()
	newKey, oldKey := testSecret('n', 32), testSecret('o', 24)
	rcv := newReceiver(t, nil)
	ch := newChannel(t, Config{
		URL:     secret.New(rcv.URL),
		Secret:  secret.New(newKey),
		Secrets: []secret.String{secret.New(strings.TrimPrefix(oldKey, "whsec_")), secret.New(newKey)},
	})
	_, err := ch.Send(t.Context(), activeNotification())
	require.NoError(t, err)
	req := rcv.next(t)

	sigs := strings.Split(req.Header.Get(HeaderSignature), " ")
	require.Len(t, sigs, 2, "the duplicate secret is signed once")
	for _, s := range sigs {
		require.True(t, strings.HasPrefix(s, "v1,"), s)
	}
	for _, key := range []string{newKey, oldKey} {
		wh, err := standardwebhooks.NewWebhook(key)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(req.Body, req.Header), "a receiver with either key accepts")
		ts, err := strconv.ParseInt(req.Header.Get(HeaderTimestamp), 10, 64)
		require.NoError(t, err)
		one, err := wh.Sign(req.Header.Get(HeaderID), time.Unix(ts, 0), req.Body)
		require.NoError(t, err)
		require.Contains(t, sigs, one)
	}
	require.Equal(t, sigs[0], sign([][]byte{mustDecode(t, newKey)}, req.Header.Get(HeaderID),
		time.Unix(mustAtoi(t, req.Header.Get(HeaderTimestamp)), 0), req.Body), "secret comes first")
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := decodeSecret(s)
	require.NoError(t, err)
	return b
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return v
}

func TestSign_OfficialVector(t *testing.T) {
	t.Parallel()
	// The test vector shared by every Standard Webhooks library
	// (libraries/go/webhook_test.go TestWebhookSign).
	const (
		key  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id   = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)

	k, err := decodeSecret(key)
	require.NoError(t, err)
	require.Equal(t, want, sign([][]byte{k}, id, ts, body))

	wh, err := standardwebhooks.NewWebhook(key)
	require.NoError(t, err)
	libSig, err := wh.Sign(id, ts, body)
	require.NoError(t, err)
	require.Equal(t, want, libSig)
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, "1614265330")
	h.Set(HeaderSignature, sign([][]byte{k}, id, ts, body))
	require.NoError(t, wh.VerifyIgnoringTimestamp(body, h))
}

func TestChannel_Send_WebhookIDWithoutKey(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	ch := newChannel(t, Config{URL: secret.New(rcv.URL)})

	// A key with '.' is made valid; an empty key is derived from the alert.
	n := activeNotification()
	n.IdempotencyKey = "abc.1.ops"
	_, err := ch.Send(t.Context(), n)
	require.NoError(t, err)
	req := rcv.next(t)
	require.Equal(t, "abc_1_ops", req.Header.Get(HeaderID))
	require.Equal(t, "abc_1_ops", decode(t, req.Body)["idempotency_key"])

	n = activeNotification()
	want := n.IdempotencyKey
	n.IdempotencyKey = ""
	_, err = ch.Send(t.Context(), n)
	require.NoError(t, err)
	require.Equal(t, want, rcv.next(t).Header.Get(HeaderID))
}

func TestChannel_Send_NoAlerts(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	ch := newChannel(t, Config{URL: secret.New(rcv.URL)})
	_, err := ch.Send(t.Context(), &notify.Notification{IdempotencyKey: "x"})
	require.ErrorIs(t, err, ErrNoAlerts)
	require.True(t, notify.IsPermanent(err))
	require.Empty(t, rcv.reqs)
}

func TestChannel_Send_CanceledContext(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	ch := newChannel(t, Config{URL: secret.New(rcv.URL)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := ch.Send(ctx, activeNotification())
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, notify.IsPermanent(err), "the notification stays queued")
	require.Equal(t, notify.ReasonCanceled, notify.ReasonOf(err))
	require.Empty(t, rcv.reqs, "nothing is sent after cancel")
}

func TestChannel_Send_BodyTemplate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		format   string
		template string
		// want is the expected body; empty means the default body.
		want string
	}{
		{
			// Fields, methods and functions of the template data.
			name:     "custom fields",
			template: `{"text": {{ json .Alert.Summary }}, "event": "{{ .Event }}", "n": {{ len .Alerts }}, "status": "{{ .Status }}", "group": "{{ .GroupKey }}", "at": "{{ rfc3339 .CreatedAt }}", "sev": "{{ upper .Alert.Severity.String }}"}`,
			want:     `{"text": "Error rate is 12.5%", "event": "alert.active", "n": 1, "status": "firing", "group": "` + string(activeNotification().Alerts[0].Fingerprint) + `", "at": "2026-11-20T10:00:00Z", "sev": "CRITICAL"}`,
		},
		{
			// .Payload is the default body, so a template can wrap it.
			name:     "wrap payload",
			template: `{"wrapped": {{ json .Payload }}}`,
			want:     `{"wrapped": ` + mustJSON(t, klaxonPayload(activeNotification(), activeNotification().IdempotencyKey, t0)) + `}`,
		},
		{
			// .Payload follows the format.
			name:     "wrap alertmanager payload",
			format:   FormatAlertmanager,
			template: `{{ json .Payload }}`,
			want:     mustJSON(t, alertmanagerPayload(activeNotification())),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, nil)
			ch := newChannel(t, Config{URL: secret.New(rcv.URL), Format: tt.format, BodyTemplate: tt.template})
			receipt, err := ch.Send(t.Context(), activeNotification())
			require.NoError(t, err)
			require.Equal(t, "200 OK", receipt.Detail)
			require.JSONEq(t, tt.want, string(rcv.next(t).Body))
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestChannel_Send_BodyTemplateFallback(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		template string
	}{
		// An index out of range fails at execution.
		{"index out of range", `{{ (index .Alerts 3).Summary }}`},
		// missingkey=error: a label the alert does not have.
		{"missing label", `{"team": "{{ .Alert.Labels.team }}"}`},
		// A template that writes nothing is a failure too.
		{"empty output", `{{ if false }}x{{ end }}  `},
		// A function called with the wrong type.
		{"wrong argument", `{"at": "{{ rfc3339 .Event }}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rcv := newReceiver(t, nil)
			ch := newChannel(t, Config{URL: secret.New(rcv.URL), BodyTemplate: tt.template},
				WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))), fixedClock(t0))
			n := activeNotification()
			receipt, err := ch.Send(t.Context(), n)
			require.NoError(t, err, "a broken template never fails the send")
			require.Equal(t, 200, receipt.StatusCode)
			require.Equal(t, "200 OK (body_template failed; sent the default body)", receipt.Detail)

			body := rcv.next(t).Body
			requireSchema(t, body)
			require.JSONEq(t, mustJSON(t, klaxonPayload(n, n.IdempotencyKey, t0)), string(body))

			var line map[string]any
			require.NoError(t, json.Unmarshal(logs.Bytes(), &line), "one log line: %s", logs.String())
			require.Equal(t, "WARN", line["level"])
			require.Contains(t, line["msg"], "body_template failed")
			require.Equal(t, "ops", line["channel"])
			require.Equal(t, n.IdempotencyKey, line["webhook_id"])
			require.NotEmpty(t, line["error"])
		})
	}
}

func TestLimitedBuffer(t *testing.T) {
	t.Parallel()
	ch := newChannel(t, Config{
		URL:          secret.New("http://127.0.0.1:1/"),
		BodyTemplate: `{{ $s := .Alert.Summary }}{{ range 2000000 }}{{ $s }}{{ end }}`,
	})
	// Too much output fails (and Send would fall back to the default body).
	_, err := ch.renderTemplate(activeNotification(), "id", t0)
	require.ErrorIs(t, err, errTemplateOutput)
}
