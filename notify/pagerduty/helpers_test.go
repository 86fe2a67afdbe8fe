package pagerduty

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// t0 is the fixed time of test notifications.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// testKey is a made-up 32-character integration key.
const testKey = "R0UTINGKEYdeadbeef0123456789abcd"

func ptr[T any](v T) *T { return &v }

// firingAlert is a fully populated active alert.
func firingAlert() alert.Alert {
	a := alert.Alert{
		ID:          "01JD0000000000000000000001",
		RuleID:      "high_error_rate",
		RuleName:    "High error rate",
		State:       alert.StateActive,
		Severity:    alert.High,
		Summary:     "Error rate is 12.5% on checkout",
		Description: "checkout fails one request in eight",
		Labels:      alert.Labels{"service": "checkout", "env": "prod", "component": "api"},
		Annotations: map[string]string{"runbook_url": "https://example.com/runbooks/error-rate"},
		Value:       0.125,
		Threshold:   ptr(0.05),
		Source:      "rule",
		Metadata:    map[string]string{"server": "web-01.example.com"},
		StartedAt:   t0.Add(-2 * time.Minute),
		UpdatedAt:   t0,
		ActiveAt:    ptr(t0.Add(-time.Minute)),
		Sequence:    2,
	}
	a.Fingerprint = alert.NewFingerprint(a.RuleID, a.Labels)
	return a
}

// notification wraps alerts in a notification for event e. The first alert
// is the primary one; ExternalURL links to it.
func notification(e notify.Event, alerts ...alert.Alert) *notify.Notification {
	n := &notify.Notification{
		ID:             7,
		IdempotencyKey: notify.IdempotencyKey(alerts[0].ID, alerts[0].Fingerprint, alerts[0].Sequence, "pager"),
		Channel:        "pager",
		Event:          e,
		Attempt:        1,
		CreatedAt:      t0,
		ExternalURL:    "https://klaxon.example.com/alerts/" + alerts[0].ID,
	}
	for _, a := range alerts {
		n.Alerts = append(n.Alerts, notify.AlertEvent{Alert: &a, PreviousState: alert.StatePending})
	}
	return n
}

// withState returns a with the state an event leaves it in.
func withState(a alert.Alert, s alert.State) alert.Alert {
	a.State = s
	a.UpdatedAt = t0.Add(time.Minute)
	return a
}

// eventSchema compiles the request body schema of createV2Event from
// PagerDuty's published OpenAPI document (PagerDuty/api-schema
// reference/events-v2/openapiv3.json), copied verbatim into testdata.
var eventSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	const name = "pagerduty-events-v2.openapiv3.json"
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	// The document uses OpenAPI's "url" format (links, client_url, images).
	c.RegisterFormat(&jsonschema.Format{Name: "url", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("%q is not an absolute URL", s)
		}
		return nil
	}})
	if err := c.AddResource(name, doc); err != nil {
		return nil, err
	}
	return c.Compile(name + "#/paths/~1enqueue/post/requestBody/content/application~1json/schema")
})

// checkEvent validates a request body against PagerDuty's published schema,
// plus the rules PagerDuty documents but the schema leaves out: summary up to
// 1,024 characters, dedup_key up to 255 and always present, payload required
// for trigger, acknowledge and resolve with only routing_key, event_action
// and dedup_key, 512 KB per event, and an RFC 3339 timestamp.
func checkEvent(body []byte) error {
	sch, err := eventSchema()
	if err != nil {
		return fmt.Errorf("load schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if len(body) > maxEventSize {
		return fmt.Errorf("body is %d bytes, over %d", len(body), maxEventSize)
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		return err
	}
	key, _ := ev["dedup_key"].(string)
	if key == "" || utf8.RuneCountInString(key) > 255 {
		return fmt.Errorf("dedup_key %q is empty or longer than 255 characters", key)
	}
	switch ev["event_action"] {
	case "trigger":
		p, ok := ev["payload"].(map[string]any)
		if !ok {
			return errors.New("trigger without payload")
		}
		if s, _ := p["summary"].(string); s == "" || utf8.RuneCountInString(s) > 1024 {
			return fmt.Errorf("summary is empty or longer than 1024 characters (%d)", utf8.RuneCountInString(s))
		}
		if s, _ := p["source"].(string); s == "" {
			return errors.New("empty source")
		}
		if ts, ok := p["timestamp"].(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				return fmt.Errorf("timestamp: %w", err)
			}
		}
	case "acknowledge", "resolve":
		if len(ev) != 3 {
			return fmt.Errorf("%s carries %d fields, want routing_key, event_action and dedup_key only", ev["event_action"], len(ev))
		}
	}
	return nil
}

// requireEvent fails unless body is a valid event.
func requireEvent(tb testing.TB, body []byte) {
	tb.Helper()
	require.NoError(tb, checkEvent(body), "body: %.2000s", body)
}

// fakePD is a stand-in Events API: it validates every body against the
// published schema (answering 400 like PagerDuty when one is invalid, and
// failing the test), keeps each dedup_key's alert state the way PagerDuty
// does, and answers with respond (default: 202 success).
type fakePD struct {
	srv *httptest.Server

	// respond, when set, answers request number i (from 0) instead of the
	// default 202; returning false falls through to the default.
	respond func(w http.ResponseWriter, r *http.Request, ev map[string]any, i int) bool

	mu sync.Mutex
	// bodies are the raw request bodies, in arrival order.
	bodies [][]byte
	// headers are the request headers, in arrival order.
	headers []http.Header
	// state is each dedup_key's alert state: triggered, acknowledged or
	// resolved.
	state map[string]string
}

func newFakePD(tb testing.TB) *fakePD {
	tb.Helper()
	f := &fakePD{state: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		i := len(f.bodies)
		f.bodies = append(f.bodies, body)
		f.headers = append(f.headers, r.Header.Clone())
		f.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
			tb.Errorf("request %s %s, want POST /v2/enqueue", r.Method, r.URL.Path)
		}
		if err := checkEvent(body); err != nil {
			tb.Errorf("request %d is not a valid Events v2 body: %v\n%.2000s", i, err, body)
			writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{err.Error()}})
			return
		}
		var ev map[string]any
		_ = json.Unmarshal(body, &ev)
		if f.respond != nil && f.respond(w, r, ev, i) {
			return
		}
		key := ev["dedup_key"].(string)
		f.mu.Lock()
		switch cur, action := f.state[key], ev["event_action"]; {
		case action == "trigger" && cur != "triggered" && cur != "acknowledged":
			f.state[key] = "triggered"
		case action == "acknowledge" && cur == "triggered":
			f.state[key] = "acknowledged"
		case action == "resolve" && (cur == "triggered" || cur == "acknowledged"):
			f.state[key] = "resolved"
		}
		f.mu.Unlock()
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": key})
	}))
	tb.Cleanup(f.srv.Close)
	return f
}

// url is the fake's enqueue URL.
func (f *fakePD) url() string { return f.srv.URL + "/v2/enqueue" }

// events returns the decoded request bodies so far.
func (f *fakePD) events(tb testing.TB) []map[string]any {
	tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]map[string]any, 0, len(f.bodies))
	for _, b := range f.bodies {
		var ev map[string]any
		require.NoError(tb, json.Unmarshal(b, &ev))
		out = append(out, ev)
	}
	return out
}

// stateOf returns the fake's state for a dedup_key.
func (f *fakePD) stateOf(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state[key]
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// newChannel builds a channel for the fake with cfg's other fields.
func newChannel(tb testing.TB, f *fakePD, cfg Config, opts ...Option) *Channel {
	tb.Helper()
	cfg.RoutingKey = secret.New(testKey)
	if f != nil {
		cfg.EventsURL = f.url()
		opts = append([]Option{WithHTTPClient(f.srv.Client())}, opts...)
	}
	opts = append([]Option{WithClock(func() time.Time { return t0 })}, opts...)
	ch, err := New("pager", cfg, opts...)
	require.NoError(tb, err)
	return ch
}

// golden compares got (JSON) with testdata/name.golden.json, rewriting it
// under -update.
func golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		var buf bytes.Buffer
		require.NoError(tb, json.Indent(&buf, got, "", "  "))
		buf.WriteByte('\n')
		require.NoError(tb, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(tb, err, "run with -update to create %s", path)
	require.JSONEq(tb, string(want), string(got))
}

// newKey wraps testKey.
func newKey() secret.String { return secret.New(testKey) }

// mustHostname is what the channel falls back to for payload.source.
func mustHostname(tb testing.TB) string {
	tb.Helper()
	h, err := os.Hostname()
	require.NoError(tb, err)
	return h
}

func nan() float64 { return math.NaN() }
