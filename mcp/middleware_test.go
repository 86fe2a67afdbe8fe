package mcp_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	kmcp "github.com/klaxonhq/klaxon/mcp"
	"github.com/klaxonhq/klaxon/metric"
	"github.com/klaxonhq/klaxon/notify"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type echoIn struct {
	Text string `json:"text" jsonschema:"text to echo"`
}

// fakeClock is a settable clock for the engine and its registry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recordingChannel keeps what the engine sends it.
type recordingChannel struct {
	mu   sync.Mutex
	sent []notify.Event
}

func (c *recordingChannel) Send(_ context.Context, n *notify.Notification) (notify.Receipt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, n.Event)
	return notify.Receipt{}, nil
}

func (c *recordingChannel) events() []notify.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]notify.Event(nil), c.sent...)
}

// newServer returns a server with the tools "echo" (fails while fail is
// set) and "boom" (panics), instrumented into reg.
func newServer(reg *metric.Registry, fail *atomic.Bool) (*sdk.Server, *kmcp.Recorder) {
	s := sdk.NewServer(&sdk.Implementation{Name: "test", Version: "v1"}, nil)
	rec := kmcp.Instrument(s, reg, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "echo", Description: "echo"}, func(_ context.Context, _ *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		if fail != nil && fail.Load() {
			return nil, nil, errors.New("backend unavailable")
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: in.Text}}}, nil, nil
	})
	s.AddTool(&sdk.Tool{Name: "boom", InputSchema: map[string]any{"type": "object"}}, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		panic("kaboom")
	})
	return s, rec
}

// connect runs s on an in-memory transport and returns a client session;
// both close with the test.
func connect(t *testing.T, s *sdk.Server) *sdk.ClientSession {
	t.Helper()
	ct, st := sdk.NewInMemoryTransports()
	ss, err := s.Connect(t.Context(), st, nil)
	require.NoError(t, err)
	c := sdk.NewClient(&sdk.Implementation{Name: "client", Version: "v1"}, nil)
	cs, err := c.Connect(t.Context(), ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cs.Close()
		_ = ss.Wait()
	})
	return cs
}

func last(t *testing.T, reg *metric.Registry, name string, labels alert.Labels) float64 {
	t.Helper()
	var sel alert.Matchers
	for k, v := range labels {
		m, err := alert.NewMatcher(k, alert.MatchEqual, v)
		require.NoError(t, err)
		sel = append(sel, m)
	}
	res := reg.Query(name, sel, metric.Last, 0, time.Now())
	require.Len(t, res, 1, "series %s%v", name, labels)
	return res[0].Value
}

func TestMiddleware_ErrorRateAlertFiresAndResolves(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
	ch := &recordingChannel{}
	eng, err := klaxon.New(
		klaxon.WithDataDir(t.TempDir()), klaxon.WithClock(clk.Now), klaxon.WithChannel("rec", ch),
		kmcp.WithRules(&kmcp.RulesOptions{ErrorRateFor: -1}),
	)
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	var fail atomic.Bool
	fail.Store(true)
	s, _ := newServer(eng.Metrics(), &fail)
	cs := connect(t, s)
	ctx := t.Context()

	for range 20 {
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
		require.NoError(t, err)
		require.True(t, res.IsError)
	}
	require.NoError(t, eng.Evaluate(ctx))
	a := findAlert(eng, kmcp.RuleHighErrorRate)
	require.NotNil(t, a, "high_error_rate must be open")
	require.Equal(t, alert.StateActive, a.State)
	require.Equal(t, "echo", a.Labels["tool"])
	require.Equal(t, "tools/call", a.Labels["method"])
	require.InDelta(t, 1.0, a.Value, 1e-9)
	require.Equal(t, "Tool echo fails 100% of its calls", a.Summary)
	cf := findAlert(eng, kmcp.RuleConsecutiveFailures)
	require.NotNil(t, cf)
	require.InDelta(t, 20.0, cf.Value, 1e-9)

	// The tool recovers; once the failures are out of the 5-minute window
	// the rate is 0 and the alert resolves.
	fail.Store(false)
	clk.Add(5*time.Minute + 10*time.Second)
	for range 5 {
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}})
		require.NoError(t, err)
		require.False(t, res.IsError)
	}
	require.NoError(t, eng.Evaluate(ctx))
	require.Nil(t, findAlert(eng, kmcp.RuleHighErrorRate), "high_error_rate must resolve")
	require.Nil(t, findAlert(eng, kmcp.RuleConsecutiveFailures), "a success ends the streak")
	got, err := eng.Manager().Get(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, alert.StateResolved, got.State)

	// The engine was never Run, so the channel got nothing yet; run it to
	// see both transitions delivered.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(runCtx) }()
	require.Eventually(t, func() bool {
		ev := ch.events()
		return containsEvent(ev, notify.EventActive) && containsEvent(ev, notify.EventResolved)
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
}

func containsEvent(evs []notify.Event, e notify.Event) bool {
	for _, x := range evs {
		if x == e {
			return true
		}
	}
	return false
}

func findAlert(eng *klaxon.Engine, ruleID string) *alert.Alert {
	for _, a := range eng.Alerts() {
		if a.RuleID == ruleID {
			return a
		}
	}
	return nil
}

func TestMiddleware_Records(t *testing.T) {
	t.Parallel()
	reg := metric.NewRegistry(&metric.Options{NoRuntime: true})
	var fail atomic.Bool
	s, rec := newServer(reg, &fail)
	cs := connect(t, s)
	ctx := t.Context()
	echo := alert.Labels{"method": "tools/call", "tool": "echo"}
	boom := alert.Labels{"method": "tools/call", "tool": "boom"}

	// A success, then a handler error (the SDK answers isError), then a success.
	_, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "a"}})
	require.NoError(t, err)
	fail.Store(true)
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "a"}})
	require.NoError(t, err)
	require.True(t, res.IsError)
	require.Equal(t, 1.0, last(t, reg, kmcp.NameConsecutiveFailures, alert.Labels{"tool": "echo"}))
	fail.Store(false)
	_, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "a"}})
	require.NoError(t, err)
	require.Equal(t, 3.0, last(t, reg, "request_count", echo))
	require.Equal(t, 1.0, last(t, reg, "errors", echo))
	require.InDelta(t, 1.0/3, last(t, reg, "error_rate", echo), 1e-9)
	require.Equal(t, 0.0, last(t, reg, kmcp.NameConsecutiveFailures, alert.Labels{"tool": "echo"}))
	require.GreaterOrEqual(t, last(t, reg, "response_time", echo), 0.0)

	// A panicking tool is answered with isError and counted; the session
	// survives.
	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "boom"})
	require.NoError(t, err)
	require.True(t, res.IsError)
	require.Equal(t, kmcp.PanicMessage, res.Content[0].(*sdk.TextContent).Text)
	require.Equal(t, 1.0, last(t, reg, kmcp.NamePanics, boom))
	require.Equal(t, 1.0, last(t, reg, "errors", boom))

	// An unknown tool is a JSON-RPC error, counted as failed.
	_, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "nope"})
	require.Error(t, err)
	require.Equal(t, 1.0, last(t, reg, "errors", alert.Labels{"method": "tools/call", "tool": "nope"}))

	// Other methods are recorded under their method alone.
	require.NoError(t, cs.Ping(ctx, nil))
	require.Equal(t, 1.0, last(t, reg, "request_count", alert.Labels{"method": "ping"}))

	// One open session; in-flight gauges are published on Collect.
	require.Equal(t, int64(1), rec.Sessions())
	require.Equal(t, 1.0, last(t, reg, "active_connections", nil))
	reg.Collect(time.Now())
	require.Equal(t, 0.0, last(t, reg, kmcp.NameInFlight, echo))
	require.Equal(t, 0.0, last(t, reg, kmcp.NameInFlightTotal, nil))
}

func TestMiddleware_InFlight(t *testing.T) {
	t.Parallel()
	reg := metric.NewRegistry(&metric.Options{NoRuntime: true})
	s := sdk.NewServer(&sdk.Implementation{Name: "test", Version: "v1"}, nil)
	kmcp.Instrument(s, reg, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	s.AddTool(&sdk.Tool{Name: "slow", InputSchema: map[string]any{"type": "object"}}, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		entered <- struct{}{}
		<-release
		return &sdk.CallToolResult{}, nil
	})
	cs := connect(t, s)
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: "slow"})
		errc <- err
	}()
	<-entered
	reg.Collect(time.Now())
	require.Equal(t, 1.0, last(t, reg, kmcp.NameInFlight, alert.Labels{"method": "tools/call", "tool": "slow"}))
	close(release)
	require.NoError(t, <-errc)
	reg.Collect(time.Now())
	require.Equal(t, 0.0, last(t, reg, kmcp.NameInFlight, alert.Labels{"method": "tools/call", "tool": "slow"}))
}

func TestMiddleware_ToolListedAndSessions(t *testing.T) {
	t.Parallel()
	reg := metric.NewRegistry(&metric.Options{NoRuntime: true})
	s, rec := newServer(reg, nil)
	ct, st := sdk.NewInMemoryTransports()
	ss, err := s.Connect(t.Context(), st, nil)
	require.NoError(t, err)
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "c", Version: "v1"}, nil).Connect(t.Context(), ct, nil)
	require.NoError(t, err)
	ctx := t.Context()

	_, err = cs.ListTools(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 1.0, last(t, reg, kmcp.NameToolListed, alert.Labels{"tool": "echo"}))
	require.Equal(t, 1.0, last(t, reg, kmcp.NameToolListed, alert.Labels{"tool": "boom"}))

	s.RemoveTools("boom")
	_, err = cs.ListTools(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, 1.0, last(t, reg, kmcp.NameToolListed, alert.Labels{"tool": "echo"}))
	require.Equal(t, 0.0, last(t, reg, kmcp.NameToolListed, alert.Labels{"tool": "boom"}))

	require.Equal(t, int64(1), rec.Sessions())
	require.NoError(t, cs.Close())
	require.NoError(t, ss.Wait())
	require.Eventually(t, func() bool { return rec.Sessions() == 0 }, 10*time.Second, time.Millisecond)
	require.Equal(t, 0.0, last(t, reg, "active_connections", nil))
}

func TestMiddleware_ToolDisappearedRule(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
	eng, err := klaxon.New(klaxon.WithDataDir(t.TempDir()), klaxon.WithClock(clk.Now), kmcp.WithRules(nil))
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	s, _ := newServer(eng.Metrics(), nil)
	cs := connect(t, s)
	ctx := t.Context()
	_, err = cs.ListTools(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, eng.Evaluate(ctx))
	require.Nil(t, findAlert(eng, kmcp.RuleToolDisappeared))

	s.RemoveTools("boom")
	_, err = cs.ListTools(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, eng.Evaluate(ctx))
	a := findAlert(eng, kmcp.RuleToolDisappeared)
	require.NotNil(t, a)
	require.Equal(t, "boom", a.Labels["tool"])
	require.Equal(t, "Tool boom is no longer in tools/list", a.Summary)
}
