package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// testBundle is an in-process engine with its API on a free port.
type testBundle struct {
	eng  *klaxon.Engine
	url  string
	sent *sentLog
}

// sentLog is a channel that remembers what it delivered.
type sentLog struct {
	mu  sync.Mutex
	got []string
}

func (s *sentLog) Send(_ context.Context, n *notify.Notification) (notify.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, string(n.Event)+" "+n.Alert().ID)
	return notify.Receipt{Detail: "recorded"}, nil
}

func (s *sentLog) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// setup starts an engine with a custom-metric rule (queue_depth > 10) and
// a recording channel named "rec".
func setup(t *testing.T, opts ...klaxon.Option) *testBundle {
	t.Helper()
	sent := &sentLog{}
	opts = append([]klaxon.Option{
		klaxon.WithListen("127.0.0.1:0"),
		klaxon.WithDataDir(t.TempDir()),
		klaxon.WithChannel("rec", sent),
		klaxon.WithRules(klaxon.Rule{
			ID: "queue_backlog", Condition: "queue_depth > 10", Severity: alert.High,
			Summary: "{{ .Value }} jobs waiting",
		}),
	}, opts...)
	eng, err := klaxon.New(opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	<-eng.Ready()
	return &testBundle{eng: eng, url: "http://" + eng.Addr(), sent: sent}
}

// run executes the klaxon command line with env as its environment and
// returns what it printed.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd(func(k string) string { return env[k] })
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err = cmd.ExecuteContext(t.Context())
	return out.String(), errb.String(), err
}

// mustRun is run that must succeed.
func (b *testBundle) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, nil, append([]string{"--url", b.url}, args...)...)
	require.NoError(t, err, "stderr: %s", errOut)
	return out
}

// alertsJSON lists alerts with --output json.
func (b *testBundle) alertsJSON(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	var res struct {
		Alerts []map[string]any `json:"alerts"`
	}
	require.NoError(t, json.Unmarshal([]byte(b.mustRun(t, append([]string{"alerts", "-o", "json"}, args...)...)), &res))
	return res.Alerts
}

// fireQueueAlert pushes a breaching sample through the CLI and evaluates.
func (b *testBundle) fireQueueAlert(t *testing.T) string {
	t.Helper()
	out := b.mustRun(t, "push", "queue_depth", "42", "--label", "queue=jobs")
	require.Equal(t, []string{"ACCEPTED", "1"}, strings.Fields(out))
	require.NoError(t, b.eng.Evaluate(t.Context()))
	list := b.alertsJSON(t)
	require.Len(t, list, 1)
	return list[0]["id"].(string)
}

func TestCLI_PushAlertsAckResolve(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.fireQueueAlert(t)

	// The table lists the alert with its state, severity, rule and labels.
	out := b.mustRun(t, "alerts")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	require.Equal(t, []string{"ID", "STATE", "SEVERITY", "RULE", "SUMMARY", "LABELS", "SINCE"}, strings.Fields(lines[0]))
	require.Contains(t, lines[1], id)
	require.Contains(t, lines[1], "active")
	require.Contains(t, lines[1], "high")
	require.Contains(t, lines[1], "queue_backlog")
	require.Contains(t, lines[1], "42 jobs waiting")
	require.Contains(t, lines[1], "queue=jobs")

	// ack with --by and --comment.
	out = b.mustRun(t, "ack", id, "--by", "alice", "--comment", "looking")
	require.Contains(t, out, "acknowledged")
	require.Contains(t, out, "alice")
	a := b.alertsJSON(t)[0]
	require.Equal(t, "acknowledged", a["state"])
	require.Equal(t, "alice", a["acknowledged_by"])

	// --state filters.
	require.Len(t, b.alertsJSON(t, "--state", "active"), 0)
	require.Len(t, b.alertsJSON(t, "--state", "acknowledged"), 1)

	// resolve by hand.
	out = b.mustRun(t, "resolve", id)
	require.Contains(t, out, "resolved")
	require.Empty(t, b.alertsJSON(t), "resolved alerts are not open")
	hist := b.alertsJSON(t, "--state", "resolved")
	require.Len(t, hist, 1)
	require.Equal(t, id, hist[0]["id"])

	// An unknown id is the API's 404, as an error.
	_, _, err := run(t, nil, "--url", b.url, "ack", "nope")
	require.ErrorContains(t, err, "404")
}

func TestCLI_FireAndJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.mustRun(t, "fire", "--severity", "critical", "--summary", "Disk full on db1", "--label", "host=db1", "--label", "alertname=disk_full")
	require.Contains(t, out, "FINGERPRINT")

	// --output json prints the API's answer, indented for people.
	raw := b.mustRun(t, "alerts", "--output", "json")
	require.True(t, json.Valid([]byte(raw)))
	require.True(t, strings.HasPrefix(raw, "{\n  \"alerts\": ["), "not indented: %.60q", raw)
	list := b.alertsJSON(t)
	require.Len(t, list, 1)
	require.Equal(t, "Disk full on db1", list[0]["summary"])
	require.Equal(t, "critical", list[0]["severity"])
	require.Equal(t, map[string]any{"host": "db1", "alertname": "disk_full"}, list[0]["labels"])

	// A bad label is refused before any request.
	_, _, err := run(t, nil, "--url", b.url, "fire", "--label", "novalue")
	require.ErrorContains(t, err, `--label "novalue": want k=v`)
	// An unknown output format is an error.
	_, _, err = run(t, nil, "--url", b.url, "alerts", "-o", "yaml")
	require.ErrorContains(t, err, "--output")
}

func TestCLI_Silences(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.mustRun(t, "silence", "add", "queue=jobs", "--duration", "1h", "--by", "bob", "--comment", "maintenance")
	fields := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1])
	silID := fields[0]
	require.NotEmpty(t, silID)

	out = b.mustRun(t, "silence", "list")
	require.Contains(t, out, silID)
	require.Contains(t, out, `queue="jobs"`)
	require.Contains(t, out, "bob")
	require.Contains(t, out, "maintenance")

	// A matching alert is suppressed, and notifies nobody.
	b.mustRun(t, "push", "queue_depth", "42", "--label", "queue=jobs")
	require.NoError(t, b.eng.Evaluate(t.Context()))
	list := b.alertsJSON(t, "--state", "suppressed")
	require.Len(t, list, 1)

	b.mustRun(t, "silence", "expire", silID)
	out = b.mustRun(t, "silence", "list")
	require.NotContains(t, out, silID, "an expired silence is not listed")
	out = b.mustRun(t, "silence", "list", "--all")
	require.Contains(t, out, silID)

	_, _, err := run(t, nil, "--url", b.url, "silence", "add", "justaname")
	require.ErrorContains(t, err, "want name=value")
}

func TestCLI_ChannelsAndDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.mustRun(t, "channels")
	require.Contains(t, out, "NAME")
	require.Contains(t, out, "rec")

	id := b.fireQueueAlert(t)
	require.Eventually(t, func() bool { return b.sent.count() > 0 }, 30*time.Second, 20*time.Millisecond)

	var res struct {
		Deliveries []map[string]any `json:"deliveries"`
	}
	require.Eventually(t, func() bool {
		res.Deliveries = nil
		_ = json.Unmarshal([]byte(b.mustRun(t, "deliveries", "--alert", id, "-o", "json")), &res)
		return len(res.Deliveries) > 0
	}, 30*time.Second, 50*time.Millisecond)
	d := res.Deliveries[0]
	require.Equal(t, "rec", d["channel"])
	require.Equal(t, "alert.active", d["event"])
	require.Equal(t, id, d["alert_id"])

	out = b.mustRun(t, "deliveries", "--alert", id)
	require.Contains(t, out, "rec")
	require.Contains(t, out, "alert.active")
}

func TestCLI_APIToken(t *testing.T) {
	t.Parallel()
	b := setup(t, klaxon.WithAPIToken("s3cret-token"))

	// Without KLAXON_API_TOKEN a write is refused.
	_, _, err := run(t, nil, "--url", b.url, "push", "queue_depth", "1")
	require.ErrorContains(t, err, "401")
	require.NotContains(t, err.Error(), "s3cret-token")

	// With it, the write goes through.
	out, _, err := run(t, map[string]string{"KLAXON_API_TOKEN": "s3cret-token"}, "--url", b.url, "push", "queue_depth", "1")
	require.NoError(t, err)
	require.Equal(t, []string{"ACCEPTED", "1"}, strings.Fields(out))

	// A wrong token is refused.
	_, _, err = run(t, map[string]string{"KLAXON_API_TOKEN": "wrong"}, "--url", b.url, "push", "queue_depth", "1")
	require.ErrorContains(t, err, "401")
}

func TestCLI_Unreachable(t *testing.T) {
	t.Parallel()
	_, _, err := run(t, nil, "--url", "http://127.0.0.1:1", "alerts")
	require.ErrorContains(t, err, "cannot reach klaxon at http://127.0.0.1:1")
}

// Input the CLI cannot send as meant is refused before anything is sent.
func TestCLI_BadInputIsRefusedFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := run(t, nil, "--url", b.url, "push", "queue_depth", "0.01abc")
	require.ErrorContains(t, err, "not a finite number")
	_, _, err = run(t, nil, "--url", b.url, "silence", "add", "team=x", "-o", "yaml")
	require.ErrorContains(t, err, "--output")
	require.NotContains(t, b.mustRun(t, "silence", "list"), "team", "nothing was created")

	// The first operator splits: the value may hold '=' and '!'.
	out := b.mustRun(t, "silence", "add", "msg!=a=b", "-o", "json")
	require.Contains(t, out, `"name": "msg"`)
	require.Contains(t, out, `"op": "!="`)
	require.Contains(t, out, `"value": "a=b"`)
}
