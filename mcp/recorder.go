package mcp

import (
	"cmp"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/metric"
)

// Label names of the series the Recorder writes. See the package doc for
// how they map to OpenTelemetry's MCP semantic conventions.
const (
	// LabelMethod carries the MCP method (OpenTelemetry mcp.method.name).
	LabelMethod = "method"
	// LabelTool carries the tool name of tools/call (OpenTelemetry
	// gen_ai.tool.name).
	LabelTool = "tool"
)

// Metric names the Recorder maintains beside the built-in request_count,
// errors, error_rate, response_time and active_connections.
const (
	// NameInFlight is a gauge of requests being handled, per method and
	// tool, published each time the registry collects (every evaluation).
	NameInFlight = "requests_in_flight"
	// NameInFlightTotal is the sum of NameInFlight over every label set,
	// answered by the Recorder as a provider.
	NameInFlightTotal = "mcp_requests_in_flight"
	// NameConsecutiveFailures is a gauge per tool: failed calls in a row
	// since its last success.
	NameConsecutiveFailures = "tool_consecutive_failures"
	// NameToolListed is a gauge per tool: 1 while tools/list shows it, 0
	// once a complete listing no longer does.
	NameToolListed = "tool_listed"
	// NamePanics counts handler panics the middleware recovered, per method
	// and tool.
	NamePanics = "handler_panics"
	// NameSessions is a gauge of open MCP sessions. active_connections
	// carries the same value so the built-in rules see it.
	NameSessions = "mcp_sessions"
)

// OtherTool is the tool label of calls beyond Options.MaxTools distinct
// tool names, so a client calling made-up names cannot grow the registry
// without bound.
const OtherTool = "_other"

// Options configure a Recorder. The zero value (or nil) means defaults.
type Options struct {
	// MaxTools caps the distinct tool labels; calls of further names are
	// recorded under OtherTool. Default 256.
	MaxTools int
	// Logger receives recovered panics (with their stack). Default discards.
	Logger *slog.Logger
}

// Recorder records MCP traffic into a metric registry: per method and per
// tool, requests, errors, latency (request_count, errors, error_rate,
// response_time), requests in flight, consecutive failures, tools listed,
// recovered panics, and open sessions (active_connections). It is the
// transport-neutral core that Middleware (go-sdk) and the mcpgo adapter
// feed. Its methods are safe for concurrent use; Begin/End allocate nothing
// once a method or tool has been seen.
type Recorder struct {
	reg      *metric.Registry
	maxTools int
	log      *slog.Logger

	active   *metric.Gauge
	sessions *metric.Gauge
	open     atomic.Int64

	// methods and tools are copy-on-write maps read without a lock on the
	// hot path; mu serialises writers (first sight of a name).
	methods atomic.Pointer[map[string]*handles]
	tools   atomic.Pointer[map[string]*handles]

	// mu guards the write side of methods and tools, listed and servers.
	mu      sync.Mutex
	listed  map[string]*metric.Gauge
	servers []*sdk.Server
}

// handles are the pre-resolved series of one (method, tool) pair.
type handles struct {
	req *metric.RequestRecorder
	// n is the number in flight; inflight publishes it (see publish).
	n        atomic.Int64
	inflight *metric.Gauge
	panics   *metric.Counter
	// consec and fails are set for tools only.
	consec *metric.Gauge
	fails  atomic.Int64
}

// NewRecorder returns a recorder writing into reg. opts may be nil.
func NewRecorder(reg *metric.Registry, opts *Options) *Recorder {
	if opts == nil {
		opts = &Options{}
	}
	r := &Recorder{
		reg:      reg,
		maxTools: cmp.Or(opts.MaxTools, 256),
		log:      opts.Logger,
		listed:   map[string]*metric.Gauge{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.active = reg.Gauge(metric.NameActiveConnections, nil)
	r.sessions = reg.Gauge(NameSessions, nil)
	r.publishSessions()
	empty := map[string]*handles{}
	r.methods.Store(&empty)
	empty2 := map[string]*handles{}
	r.tools.Store(&empty2)
	// Publishing requests in flight from the hot path would read the clock
	// twice more per request; the registry asks its providers every
	// evaluation instead, and that is when the gauges are brought up to
	// date. The name is unique per recorder, so registration cannot fail.
	_ = reg.RegisterProvider(fmt.Sprintf("mcp-%p", r), inflightProvider{r})
	return r
}

// Logger returns the logger of Options.Logger (discarding by default).
func (r *Recorder) Logger() *slog.Logger { return r.log }

// Registry returns the registry the recorder writes into.
func (r *Recorder) Registry() *metric.Registry { return r.reg }

// Call is one request in progress, from Begin to End. The zero Call is
// inert: End on it does nothing.
type Call struct {
	h     *handles
	start time.Time
}

// Begin starts recording a request of method; tool is the tool name for
// tools/call and "" otherwise. Pair every Begin with one End.
func (r *Recorder) Begin(method, tool string) Call {
	var h *handles
	if tool != "" {
		h = r.tool(tool)
	} else {
		h = r.method(method)
	}
	h.n.Add(1)
	return Call{h: h, start: time.Now()}
}

// End finishes the call: it counts the request, an error if failed, its
// latency, and for tools the consecutive failures.
func (c Call) End(failed bool) {
	h := c.h
	if h == nil {
		return
	}
	h.req.Record(time.Since(c.start), failed)
	h.n.Add(-1)
	if h.consec == nil {
		return
	}
	// Successes only touch the gauge when a streak ends, so the common
	// path is one atomic load. Concurrent calls of one tool may interleave
	// a success and a failure; the gauge then shows either order, which
	// is all "in a row" can mean under concurrency.
	if failed {
		h.consec.Set(float64(h.fails.Add(1)))
	} else if h.fails.Load() != 0 {
		h.fails.Store(0)
		h.consec.Set(0)
	}
}

// Panicked counts a recovered panic of the call (End must still be called).
func (c Call) Panicked() {
	if c.h != nil {
		c.h.panics.Inc()
	}
}

func (r *Recorder) method(m string) *handles {
	if h, ok := (*r.methods.Load())[m]; ok {
		return h
	}
	return r.slow(&r.methods, m, alert.Labels{LabelMethod: m}, false)
}

func (r *Recorder) tool(t string) *handles {
	if h, ok := (*r.tools.Load())[t]; ok {
		return h
	}
	if len(*r.tools.Load()) >= r.maxTools {
		t = OtherTool
		if h, ok := (*r.tools.Load())[t]; ok {
			return h
		}
	}
	return r.slow(&r.tools, t, alert.Labels{LabelMethod: MethodCallTool, LabelTool: t}, true)
}

// slow creates the handles of a name seen for the first time.
func (r *Recorder) slow(p *atomic.Pointer[map[string]*handles], name string, labels alert.Labels, tool bool) *handles {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *p.Load()
	if h, ok := old[name]; ok {
		return h
	}
	h := &handles{}
	var err error
	if h.req, err = r.reg.RequestsSafely(labels); err != nil {
		// Only invalid label values (not UTF-8) get here: fall back to a
		// fixed, valid label set rather than lose the request.
		labels = alert.Labels{LabelMethod: "_invalid"}
		h.req = r.reg.Requests(labels)
	}
	h.inflight = r.reg.Gauge(NameInFlight, labels)
	h.inflight.Add(0)
	h.panics = r.reg.Counter(NamePanics, labels)
	if tool {
		h.consec = r.reg.Gauge(NameConsecutiveFailures, alert.Labels{LabelTool: labels[LabelTool]})
		h.consec.Add(0)
	}
	next := make(map[string]*handles, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = h
	p.Store(&next)
	return h
}

// SessionOpened counts a new session of a server the recorder does not
// watch (the mcpgo adapter calls it).
func (r *Recorder) SessionOpened() {
	r.open.Add(1)
	r.publishSessions()
}

// SessionClosed counts a session SessionOpened counted that ended.
func (r *Recorder) SessionClosed() {
	r.open.Add(-1)
	r.publishSessions()
}

// WatchServer counts the open sessions of a go-sdk server in
// active_connections and mcp_sessions. The count is taken whenever the
// registry collects (every evaluation) and when Sessions is called, so the
// request path pays nothing for it; this also counts sessions of the
// sessionless protocol (server/discover), which never call initialize.
func (r *Recorder) WatchServer(s *sdk.Server) {
	r.mu.Lock()
	r.servers = append(r.servers, s)
	r.mu.Unlock()
	r.publishSessions()
}

// Sessions returns the number of open sessions, and publishes it.
func (r *Recorder) Sessions() int64 { return r.publishSessions() }

func (r *Recorder) publishSessions() int64 {
	n := r.open.Load()
	r.mu.Lock()
	for _, s := range r.servers {
		for range s.Sessions() {
			n++
		}
	}
	r.mu.Unlock()
	r.active.Set(float64(n))
	r.sessions.Set(float64(n))
	return n
}

// ToolsListed records the tools a tools/list answer showed: each gets
// tool_listed 1. When complete is true (the answer was the whole list, not
// one page), every tool listed before and missing now gets tool_listed 0.
func (r *Recorder) ToolsListed(names []string, complete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		seen[n] = true
		g, ok := r.listed[n]
		if !ok {
			if len(r.listed) >= r.maxTools {
				continue
			}
			var err error
			if g, err = r.reg.GaugeSafely(NameToolListed, alert.Labels{LabelTool: n}); err != nil {
				continue
			}
			r.listed[n] = g
		}
		g.Set(1)
	}
	if !complete {
		return
	}
	for n, g := range r.listed {
		if !seen[n] {
			g.Set(0)
		}
	}
}

// publish sets the session gauges and every requests_in_flight gauge to
// their current counts and returns the sum of requests in flight.
func (r *Recorder) publish() float64 {
	r.publishSessions()
	var total int64
	for _, p := range []*atomic.Pointer[map[string]*handles]{&r.methods, &r.tools} {
		for _, h := range *p.Load() {
			n := h.n.Load()
			total += n
			if float64(n) != h.inflight.Value() {
				h.inflight.Set(float64(n))
			}
		}
	}
	return float64(total)
}

// inflightProvider answers mcp_requests_in_flight and, as it is asked every
// evaluation (metric.Registry.Collect), publishes the labelled gauges.
type inflightProvider struct{ r *Recorder }

// Names lists the provider's one metric.
func (p inflightProvider) Names() []string { return []string{NameInFlightTotal} }

// Value publishes the in-flight gauges and returns their sum.
func (p inflightProvider) Value(name string) (float64, bool) {
	if name != NameInFlightTotal {
		return 0, false
	}
	return p.r.publish(), true
}

// Metadata describes mcp_requests_in_flight.
func (p inflightProvider) Metadata(name string) map[string]string {
	if name != NameInFlightTotal {
		return nil
	}
	return map[string]string{"unit": "requests", "source": "mcp middleware", "help": "MCP requests being handled"}
}
