package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// t0 is the fixed time of test notifications.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// testSecret returns a valid whsec_ secret whose key is n bytes of b.
func testSecret(b byte, n int) string {
	return secretPrefix + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, n))
}

func ptr[T any](v T) *T { return &v }

// firingAlert is a fully populated active alert.
func firingAlert() alert.Alert {
	a := alert.Alert{
		ID:          "01JD0000000000000000000001",
		RuleID:      "high_error_rate",
		RuleName:    "High error rate",
		State:       alert.StateActive,
		Severity:    alert.Critical,
		Summary:     "Error rate is 12.5%",
		Description: "checkout fails one request in eight",
		Labels:      alert.Labels{"service": "checkout", "env": "prod"},
		Annotations: map[string]string{"runbook_url": "https://example.com/runbook"},
		Value:       0.125,
		Threshold:   ptr(0.05),
		Source:      "rule",
		Metadata:    map[string]string{"region": "eu-west-1"},
		StartedAt:   t0.Add(-2 * time.Minute),
		UpdatedAt:   t0,
		ActiveAt:    ptr(t0.Add(-time.Minute)),
		Sequence:    2,
	}
	a.Fingerprint = alert.NewFingerprint(a.RuleID, a.Labels)
	return a
}

// activeNotification announces firingAlert going from pending to active.
func activeNotification() *notify.Notification {
	a := firingAlert()
	return &notify.Notification{
		ID:             7,
		IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, a.Sequence, "ops"),
		Channel:        "ops",
		Event:          notify.EventActive,
		Alerts:         []notify.AlertEvent{{Alert: &a, PreviousState: alert.StatePending}},
		Attempt:        1,
		CreatedAt:      t0,
		ExternalURL:    "https://klaxon.example.com/alerts/01JD0000000000000000000001",
	}
}

// acknowledgedNotification announces an acknowledgement.
func acknowledgedNotification() *notify.Notification {
	a := firingAlert()
	a.State = alert.StateAcknowledged
	a.AcknowledgedAt = ptr(t0.Add(time.Minute))
	a.AcknowledgedBy = "alice"
	a.AckComment = "looking"
	a.UpdatedAt = t0.Add(time.Minute)
	a.Sequence = 3
	return &notify.Notification{
		IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, a.Sequence, "ops"),
		Channel:        "ops",
		Event:          notify.EventAcknowledged,
		Alerts:         []notify.AlertEvent{{Alert: &a, PreviousState: alert.StateActive}},
		Attempt:        1,
		CreatedAt:      t0.Add(time.Minute),
	}
}

// resolvedGroupNotification is a grouped resolution of two pushed alerts,
// the second without labels' optional fields (nil maps, no threshold).
func resolvedGroupNotification() *notify.Notification {
	a := firingAlert()
	a.State = alert.StateResolved
	a.ResolvedAt = ptr(t0.Add(5 * time.Minute))
	a.UpdatedAt = t0.Add(5 * time.Minute)
	a.Sequence = 3
	b := alert.Alert{
		ID:        "01JD0000000000000000000002",
		State:     alert.StateResolved,
		Severity:  alert.High,
		Summary:   "disk almost full",
		Labels:    alert.Labels{"service": "checkout", "env": "prod", "disk": "/var"},
		Source:    "api",
		StartedAt: t0.Add(-time.Hour),
		UpdatedAt: t0.Add(5 * time.Minute),
		EndsAt:    ptr(t0.Add(4 * time.Minute)),
		Sequence:  2,
	}
	b.ResolvedAt = ptr(t0.Add(4 * time.Minute))
	b.Fingerprint = alert.NewFingerprint("", b.Labels)
	return &notify.Notification{
		IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, a.Sequence, "team pager"),
		Channel:        "team pager",
		Event:          notify.EventResolved,
		GroupKey:       `{}:{env="prod", service="checkout"}`,
		Alerts: []notify.AlertEvent{
			{Alert: &a, PreviousState: alert.StateActive},
			{Alert: &b, PreviousState: alert.StateActive},
		},
		Attempt:   2,
		CreatedAt: t0.Add(5 * time.Minute),
	}
}

// request is what a test receiver saw.
type request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is an httptest server that records requests and answers with
// handler (200 when nil).
type receiver struct {
	*httptest.Server
	reqs chan request
}

func newReceiver(tb testing.TB, handler http.HandlerFunc) *receiver {
	tb.Helper()
	r := &receiver{reqs: make(chan request, 64)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.reqs <- request{Method: req.Method, Path: req.URL.RequestURI(), Header: req.Header.Clone(), Body: body}
		if handler != nil {
			handler(w, req)
		}
	}))
	tb.Cleanup(r.Close)
	return r
}

// next returns the next recorded request; it fails the test when there is none.
func (r *receiver) next(tb testing.TB) request {
	tb.Helper()
	select {
	case req := <-r.reqs:
		return req
	default:
		tb.Fatal("the receiver got no request")
		return request{}
	}
}

// newChannel builds a channel for tests, failing on configuration errors.
func newChannel(tb testing.TB, cfg Config, opts ...Option) *Channel {
	tb.Helper()
	ch, err := New("ops", cfg, opts...)
	require.NoError(tb, err)
	return ch
}

// fixedClock returns a clock stopped at t.
func fixedClock(t time.Time) Option { return WithClock(func() time.Time { return t }) }

var loadSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join("..", "..", "docs", "webhook-payload.schema.json"))
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
	if err := c.AddResource("webhook-payload.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("webhook-payload.schema.json")
})

// schemaError validates body against docs/webhook-payload.schema.json.
func schemaError(tb testing.TB, body []byte) error {
	tb.Helper()
	sch, err := loadSchema()
	require.NoError(tb, err, "compile the payload schema")
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	require.NoError(tb, err, "body is not JSON")
	return sch.Validate(v)
}

// requireSchema fails unless body is a valid klaxon payload.
func requireSchema(tb testing.TB, body []byte) {
	tb.Helper()
	require.NoError(tb, schemaError(tb, body), "body: %s", body)
}

// requireGolden compares body with testdata/NAME.golden.json semantically,
// or rewrites the file under -update.
func requireGolden(tb testing.TB, name string, body []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		var buf bytes.Buffer
		require.NoError(tb, json.Indent(&buf, body, "", "  "))
		buf.WriteByte('\n')
		require.NoError(tb, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(tb, err, "run go test -update to create %s", path)
	require.JSONEq(tb, string(want), string(body))
}

// decode unmarshals a JSON body into a generic map.
func decode(tb testing.TB, body []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal(body, &m))
	return m
}
