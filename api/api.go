// Package api serves klaxon's HTTP JSON API, its Prometheus metrics, health
// probes and the dashboard page. Handlers stay thin: they decode and check
// input, call the lifecycle manager, the store or the dispatcher, and encode
// the answer. Errors are JSON {"error": "...", "field": "..."} with a 4xx
// code; write endpoints need the bearer token when one is configured.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
	"github.com/klaxonhq/klaxon/store"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 4 << 20

// MetricPusher accepts pushed samples (the metric registry).
type MetricPusher interface {
	Push(name string, labels alert.Labels, value float64, at time.Time) error
}

// Dispatcher is what the API needs of the notify dispatcher.
type Dispatcher interface {
	Health() []notify.ChannelHealth
}

// ChannelTester sends a sample notification through one channel.
type ChannelTester func(ctx context.Context, name string) (notify.Receipt, error)

// Options configure the API server. Manager and Store are required.
type Options struct {
	Manager    *lifecycle.Manager
	Store      store.Store
	Dispatcher Dispatcher
	Metrics    MetricPusher
	Test       ChannelTester
	// Gatherer serves /metrics; nil serves an empty registry.
	Gatherer prometheus.Gatherer
	// Token, when set, is required as "Authorization: Bearer TOKEN" on
	// every write endpoint.
	Token secret.String
	// Ready reports whether the engine is ready (store reachable, loops
	// running); nil means always ready.
	Ready  func(ctx context.Context) error
	Now    func() time.Time
	Logger *slog.Logger
	// Version is shown by the dashboard and /healthz.
	Version string
	// Profiling serves Go's runtime profiles at /debug/pprof/ (behind the
	// API token when one is set). Off by default.
	Profiling bool
	// Hosts are host names (no port) besides loopback ones and IP
	// literals that requests may be addressed to while no Token is set:
	// the hosts of server.external_url and server.advertise_url.
	Hosts []string
}

// Server is the HTTP handler.
type Server struct {
	o   Options
	mux *http.ServeMux
	log *slog.Logger
}

// New builds the handler.
func New(o Options) (*Server, error) {
	if o.Manager == nil || o.Store == nil {
		return nil, errors.New("api: Options.Manager and Options.Store are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// A token read from a file or an environment variable often ends in a
	// newline; the Authorization header is trimmed too, so trim both. A
	// token that is only whitespace (an empty secret file) is refused
	// rather than taken as no token: whoever set it meant writes to need one.
	if !o.Token.IsZero() && strings.TrimSpace(o.Token.Reveal()) == "" {
		return nil, errors.New("api: the API token is blank (only whitespace)")
	}
	o.Token = secret.New(strings.TrimSpace(o.Token.Reveal()))
	s := &Server{o: o, mux: http.NewServeMux(), log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	g := o.Gatherer
	if g == nil {
		g = prometheus.NewRegistry()
	}
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	m.HandleFunc("GET /api/v1/alerts", s.listAlerts)
	m.HandleFunc("POST /api/v1/alerts", s.write(s.pushAlerts))
	m.HandleFunc("GET /api/v1/alerts/{id}", s.getAlert)
	m.HandleFunc("GET /api/v1/alerts/{id}/history", s.alertHistory)
	m.HandleFunc("POST /api/v1/alerts/{id}/ack", s.write(s.ackAlert))
	m.HandleFunc("POST /api/v1/alerts/{id}/resolve", s.write(s.resolveAlert))
	m.HandleFunc("POST /api/v1/metrics", s.write(s.pushMetrics))
	m.HandleFunc("GET /api/v1/silences", s.listSilences)
	m.HandleFunc("POST /api/v1/silences", s.write(s.addSilence))
	m.HandleFunc("DELETE /api/v1/silences/{id}", s.write(s.expireSilence))
	m.HandleFunc("GET /api/v1/channels", s.listChannels)
	m.HandleFunc("POST /api/v1/channels/{name}/test", s.write(s.testChannel))
	m.HandleFunc("GET /api/v1/deliveries", s.listDeliveries)
	m.HandleFunc("GET /{$}", s.dashboard)
	if o.Profiling {
		m.HandleFunc("GET /debug/pprof/", s.write(pprof.Index))
		m.HandleFunc("GET /debug/pprof/profile", s.write(pprof.Profile))
		m.HandleFunc("GET /debug/pprof/heap", s.write(pprof.Handler("heap").ServeHTTP))
		m.HandleFunc("GET /debug/pprof/goroutine", s.write(pprof.Handler("goroutine").ServeHTTP))
		m.HandleFunc("GET /debug/pprof/allocs", s.write(pprof.Handler("allocs").ServeHTTP))
	}
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	if s.o.Token.IsZero() && !s.hostAllowed(r.Host) {
		// Without a token, a web page must not reach the API through a
		// name it controls that resolves to this machine (DNS rebinding).
		writeError(w, http.StatusMisdirectedRequest, "this server answers requests addressed to it by a loopback name or an IP address, "+
			"or by the host of server.external_url; set one, or an API token, to use the name "+strconv.Quote(r.Host), "Host")
		return
	}
	if p := r.URL.Path; p == "/api" || strings.HasPrefix(p, "/api/") {
		if h, pattern := s.mux.Handler(r); pattern == "" {
			unrouted(w, r, h)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// unrouted answers a request under /api/ that no route serves with the
// API's JSON error: 404 for a path it does not know, 405 with Allow for a
// method the path does not take. h is the mux's own answer, which says
// which of the two it is and which methods are allowed; anything else it
// answers (a redirect to the cleaned path) goes out as it is.
func unrouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	ans := &muxAnswer{header: http.Header{}}
	h.ServeHTTP(ans, r)
	switch ans.code {
	case http.StatusNotFound:
		writeError(w, http.StatusNotFound, "unknown API path "+strconv.Quote(r.URL.Path), "")
	case http.StatusMethodNotAllowed:
		allow := ans.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s (allowed: %s)",
			strconv.Quote(r.Method), strconv.Quote(r.URL.Path), allow), "")
	default:
		h.ServeHTTP(w, r)
	}
}

// muxAnswer records the status and headers of a handler's answer and drops
// its body.
type muxAnswer struct {
	header http.Header
	code   int
}

func (a *muxAnswer) Header() http.Header { return a.header }

func (a *muxAnswer) WriteHeader(code int) {
	if a.code == 0 {
		a.code = code
	}
}

func (a *muxAnswer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return len(b), nil
}

// hostAllowed reports whether host (with or without a port) is an IP
// literal, localhost, or one of Options.Hosts.
func (s *Server) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" || net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") {
		return true
	}
	for _, h := range s.o.Hosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// write wraps a handler that changes state with the cross-site and token
// checks.
func (s *Server) write(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if field, msg := crossSite(r); msg != "" {
			writeError(w, http.StatusForbidden, msg, field)
			return
		}
		if !s.o.Token.IsZero() {
			scheme, got, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
			if !strings.EqualFold(scheme, "Bearer") ||
				subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.o.Token.Reveal())) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
				writeError(w, http.StatusUnauthorized, "a valid bearer token is required for this endpoint", "Authorization")
				return
			}
		}
		h(w, r)
	}
}

// crossSite refuses a write a web page on another site made the browser
// send (cross-site request forgery, which needs no CORS preflight for a
// form or text/plain body): browsers name the requesting site in
// Sec-Fetch-Site and Origin. Clients that are not browsers send neither,
// and curl's form content type stays accepted. It returns the header at
// fault and why, or "".
func crossSite(r *http.Request) (field, msg string) {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return "Sec-Fetch-Site", "cross-site requests cannot change klaxon's state"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return "Origin", "requests from another origin cannot change klaxon's state"
		}
	}
	return "", ""
}

// apiError is the JSON error body.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// fieldError is an input problem that names the field.
type fieldError struct {
	field string
	msg   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func badField(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// Compact: indenting cost half as much again as encoding a 250-alert
	// push answer; `klaxon ... -o json` and jq indent for people.
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg, field string) {
	writeJSON(w, code, apiError{Error: msg, Field: field})
}

// fail maps an error to its status: field errors 400, not found 404,
// invalid transitions 409, a replica that stopped leading 503, anything
// else 500 (logged, not echoed).
func (s *Server) fail(w http.ResponseWriter, err error) {
	var fe *fieldError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &fe):
		writeError(w, http.StatusBadRequest, fe.msg, fe.field)
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mbe.Limit), "")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error(), "id")
	case errors.Is(err, lifecycle.ErrInvalidTransition):
		writeError(w, http.StatusConflict, err.Error(), "state")
	case errors.Is(err, store.ErrNotLeader):
		// The lead is changing hands (replicas on PostgreSQL): nothing was
		// written, and the same call succeeds on the new leader.
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "this replica just stopped leading; retry", "")
	default:
		s.log.Error("api request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error (the server log has the details)", "")
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.o.Version})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.o.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.o.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
