package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

type pushed struct {
	mu      sync.Mutex
	samples []string
}

func (p *pushed) CheckPush(name string, labels alert.Labels, value float64, at time.Time) error {
	if name == "bad name" {
		return io.ErrUnexpectedEOF
	}
	return nil
}

func (p *pushed) Push(name string, labels alert.Labels, value float64, at time.Time) error {
	if name == "bad name" {
		return io.ErrUnexpectedEOF
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.samples = append(p.samples, name)
	return nil
}

type fakeDispatcher struct{}

func (fakeDispatcher) Health() []notify.ChannelHealth {
	return []notify.ChannelHealth{{Name: "ops", Type: "webhook", Circuit: "closed", Healthy: true, Sent: 3}}
}

type testBundle struct {
	srv     *httptest.Server
	m       *lifecycle.Manager
	metrics *pushed
}

func setup(t *testing.T, token string) *testBundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	m, err := lifecycle.New(t.Context(), lifecycle.Options{Store: st, Routes: []*lifecycle.Route{{Notify: []string{"ops"}}}})
	require.NoError(t, err)
	b := &testBundle{m: m, metrics: &pushed{}}
	h, err := api.New(api.Options{
		Manager: m, Store: st, Dispatcher: fakeDispatcher{}, Metrics: b.metrics, Token: secret.New(token),
		Test: func(ctx context.Context, name string) (notify.Receipt, error) {
			if name != "ops" {
				return notify.Receipt{}, store.ErrNotFound
			}
			return notify.Receipt{StatusCode: 200, Detail: "200 OK"}, nil
		},
		Version: "test",
	})
	require.NoError(t, err)
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *testBundle) do(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := map[string]any{}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	} else {
		out["body"] = string(raw)
	}
	return resp.StatusCode, out
}

func TestAPI_AlertLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	code, res := b.do(t, "POST", "/api/v1/alerts", "", []map[string]any{
		{"labels": map[string]string{"alertname": "disk_full", "host": "db1"}, "severity": "high", "summary": "disk full"},
	})
	require.Equal(t, http.StatusAccepted, code, res)
	list := res["alerts"].([]any)
	require.Len(t, list, 1)
	id := list[0].(map[string]any)["id"].(string)
	fp := list[0].(map[string]any)["fingerprint"].(string)
	require.Equal(t, string(alert.NewFingerprint("", alert.Labels{"alertname": "disk_full", "host": "db1"})), fp)

	code, res = b.do(t, "GET", "/api/v1/alerts", "", nil)
	require.Equal(t, 200, code)
	alerts := res["alerts"].([]any)
	require.Len(t, alerts, 1)
	a := alerts[0].(map[string]any)
	for _, f := range []string{"id", "fingerprint", "rule_id", "state", "severity", "summary", "description", "labels",
		"annotations", "value", "threshold", "started_at", "updated_at", "acknowledged_at", "acknowledged_by", "resolved_at", "sequence"} {
		require.Contains(t, a, f, "alert JSON field %s", f)
	}
	require.Equal(t, "active", a["state"])
	require.Equal(t, "high", a["severity"])

	// By fingerprint too.
	code, res = b.do(t, "GET", "/api/v1/alerts/"+fp, "", nil)
	require.Equal(t, 200, code)
	require.Equal(t, id, res["id"])

	code, res = b.do(t, "POST", "/api/v1/alerts/"+id+"/ack", "", map[string]string{"by": "alice", "comment": "on it"})
	require.Equal(t, 200, code, res)
	require.Equal(t, "acknowledged", res["state"])
	require.Equal(t, "alice", res["acknowledged_by"])

	code, res = b.do(t, "POST", "/api/v1/alerts/"+id+"/resolve", "", nil)
	require.Equal(t, 200, code, res)
	require.Equal(t, "resolved", res["state"])

	code, res = b.do(t, "GET", "/api/v1/alerts", "", nil)
	require.Equal(t, 200, code)
	require.Empty(t, res["alerts"])
	code, res = b.do(t, "GET", "/api/v1/alerts?state=resolved", "", nil)
	require.Equal(t, 200, code)
	require.Len(t, res["alerts"], 1)

	code, res = b.do(t, "GET", "/api/v1/alerts/"+id+"/history", "", nil)
	require.Equal(t, 200, code)
	require.Len(t, res["transitions"], 3)

	code, res = b.do(t, "POST", "/api/v1/alerts/"+id+"/ack", "", map[string]string{"by": "x"})
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "state", res["field"])

	code, res = b.do(t, "GET", "/api/v1/alerts/nope", "", nil)
	require.Equal(t, http.StatusNotFound, code)
	require.NotEmpty(t, res["error"])

	code, res = b.do(t, "GET", "/api/v1/deliveries?alert="+id, "", nil)
	require.Equal(t, 200, code)
	require.NotNil(t, res["deliveries"])
}

func TestAPI_BadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	tests := []struct {
		name, method, path string
		body               any
		code               int
		field              string
	}{
		// each row: a mistake and the field the error must name
		{"no labels", "POST", "/api/v1/alerts", `[{"summary":"x"}]`, 400, "[0].labels"},
		{"bad severity", "POST", "/api/v1/alerts", `[{"labels":{"a":"b"},"severity":"urgent"}]`, 400, "[0].severity"},
		{"bad status", "POST", "/api/v1/alerts", `[{"labels":{"a":"b"},"status":"done"}]`, 400, "[0].status"},
		{"bad ends_at", "POST", "/api/v1/alerts", `[{"labels":{"a":"b"},"ends_at":"tomorrow"}]`, 400, "[0].ends_at"},
		{"unknown field", "POST", "/api/v1/alerts", `[{"labels":{"a":"b"},"sevrity":"high"}]`, 400, "sevrity"},
		{"not json", "POST", "/api/v1/alerts", `{`, 400, "body"},
		{"wrong type", "POST", "/api/v1/alerts", `[{"labels":"x"}]`, 400, "[0].labels"},
		{"empty body", "POST", "/api/v1/metrics", ``, 400, "body"},
		{"metric without value", "POST", "/api/v1/metrics", `[{"name":"x"}]`, 400, "[0].value"},
		{"metric refused", "POST", "/api/v1/metrics", `[{"name":"bad name","value":1}]`, 400, "[0]"},
		{"bad state filter", "GET", "/api/v1/alerts?state=open-ish", nil, 400, "state"},
		{"silence without matchers", "POST", "/api/v1/silences", `{"duration":"1h"}`, 400, "matchers"},
		{"silence bad regex", "POST", "/api/v1/silences", `{"matchers":[{"name":"a","op":"=~","value":"("}],"duration":"1h"}`, 400, "matchers[0]"},
		{"silence without end", "POST", "/api/v1/silences", `{"matchers":[{"name":"a","value":"b"}]}`, 400, "ends_at"},
		{"unknown channel test", "POST", "/api/v1/channels/nope/test", nil, 404, "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, res := b.do(t, tc.method, tc.path, "", tc.body)
			require.Equal(t, tc.code, code, res)
			require.Equal(t, tc.field, res["field"], res)
			require.NotEmpty(t, res["error"])
		})
	}
}

func TestAPI_BodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	big := `[{"labels":{"a":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}}]`
	code, res := b.do(t, "POST", "/api/v1/alerts", "", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, code, res)
}

func TestAPI_Token(t *testing.T) {
	t.Parallel()
	b := setup(t, "s3cret-token")
	body := []map[string]any{{"labels": map[string]string{"a": "b"}}}
	code, res := b.do(t, "POST", "/api/v1/alerts", "", body)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "Authorization", res["field"])
	code, _ = b.do(t, "POST", "/api/v1/alerts", "wrong", body)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = b.do(t, "POST", "/api/v1/alerts", "s3cret-token", body)
	require.Equal(t, http.StatusAccepted, code)
	// Reads stay open.
	code, _ = b.do(t, "GET", "/api/v1/alerts", "", nil)
	require.Equal(t, http.StatusOK, code)
	// The token never appears in an answer.
	_, page := b.do(t, "GET", "/", "", nil)
	require.NotContains(t, page["body"], "s3cret-token")
}

func TestAPI_MetricsSilencesChannelsHealth(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	code, res := b.do(t, "POST", "/api/v1/metrics", "", `[{"name":"error_rate","value":0.2,"labels":{"tool":"search"}},{"name":"queue","value":3}]`)
	require.Equal(t, http.StatusAccepted, code, res)
	require.EqualValues(t, 2, res["accepted"])
	require.Equal(t, []string{"error_rate", "queue"}, b.metrics.samples)

	code, res = b.do(t, "POST", "/api/v1/silences", "", map[string]any{
		"matchers": []map[string]string{{"name": "host", "op": "=~", "value": "db.*"}}, "duration": "1h", "created_by": "ops", "comment": "maintenance",
	})
	require.Equal(t, http.StatusCreated, code, res)
	id := res["id"].(string)
	code, res = b.do(t, "GET", "/api/v1/silences", "", nil)
	require.Equal(t, 200, code)
	require.Len(t, res["silences"], 1)
	code, _ = b.do(t, "DELETE", "/api/v1/silences/"+id, "", nil)
	require.Equal(t, 200, code)
	code, res = b.do(t, "GET", "/api/v1/silences", "", nil)
	require.Equal(t, 200, code)
	require.Empty(t, res["silences"])

	code, res = b.do(t, "GET", "/api/v1/channels", "", nil)
	require.Equal(t, 200, code)
	require.Equal(t, "ops", res["channels"].([]any)[0].(map[string]any)["name"])
	code, res = b.do(t, "POST", "/api/v1/channels/ops/test", "", nil)
	require.Equal(t, 200, code)
	require.Equal(t, true, res["ok"])

	code, _ = b.do(t, "GET", "/healthz", "", nil)
	require.Equal(t, 200, code)
	code, _ = b.do(t, "GET", "/readyz", "", nil)
	require.Equal(t, 200, code)
	code, res = b.do(t, "GET", "/metrics", "", nil)
	require.Equal(t, 200, code)
	code, res = b.do(t, "GET", "/", "", nil)
	require.Equal(t, 200, code)
	require.Contains(t, res["body"], "<h1>klaxon</h1>")
}

func TestAPI_DashboardEscapes(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	code, _ := b.do(t, "POST", "/api/v1/alerts", "", []map[string]any{
		{"labels": map[string]string{"alertname": "x"}, "summary": "<script>alert(1)</script>"},
	})
	require.Equal(t, http.StatusAccepted, code)
	_, res := b.do(t, "GET", "/", "", nil)
	require.NotContains(t, res["body"], "<script>alert(1)</script>")
	require.Contains(t, res["body"], "&lt;script&gt;")
}

// A write on a replica that just stopped leading answers 503 with
// Retry-After: nothing was written, and the call succeeds once retried on
// the leader.
func TestAPI_NotLeaderIs503(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	b.m.Follow()
	req, err := http.NewRequest("POST", b.srv.URL+"/api/v1/alerts", strings.NewReader(`[{"labels": {"alertname": "x"}}]`))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Contains(t, body["error"], "stopped leading")
}
