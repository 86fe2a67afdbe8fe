package klaxon

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// Several replicas share one PostgreSQL database. Every replica delivers:
// its dispatcher claims queued records (SKIP LOCKED, leases) and wakes on
// the others' NOTIFY. One replica leads: it evaluates rules and runs the
// alert lifecycle, whose state lives in memory and must not run twice. The
// others forward API requests to it, so a client or load balancer may talk
// to any replica. When the leader stops, dies or loses its database
// session, another replica takes the lead (store.Leadership), reloads the
// open alerts and carries on.

// forwardedHeader marks a request a follower forwarded: the receiver
// answers it or fails, and never forwards it again.
const forwardedHeader = "Klaxon-Forwarded-By"

// replicaLease is how long a replica's claim on a record lasts unless
// renewed: what a crashed replica's records in flight wait before another
// replica sends them. It must outlast an attempt (10 s by default) with room
// for a renewal; longer attempt timeouts are renewed like any held record.
const replicaLease = 15 * time.Second

// tryEvery is how often a follower tries to take the lead (how long a
// replica set may go without a leader after the leader dies); retakeAfter is
// the pause after a takeover that failed half way.
const (
	tryEvery    = 500 * time.Millisecond
	retakeAfter = time.Second
)

// Leading reports whether this engine runs evaluation and the alert
// lifecycle: always with SQLite, while it holds the lead on PostgreSQL.
func (e *Engine) Leading() bool { return e.leading.Load() }

// firstTry is Run's attempt to lead before it reports ready, so a single
// engine on PostgreSQL accepts writes as soon as Run is ready, as one on
// SQLite does. It returns the term, or nil when another replica leads or
// the attempt failed (campaign retries).
func (e *Engine) firstTry(ctx context.Context) store.Term {
	// Followers forward the API here: a loopback address only works for
	// replicas on one machine (server.advertise_url sets another).
	e.log.Info("replica of a set sharing the database", "replica", e.owner, "advertise_url", redactURL(e.advertiseURL()))
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	term, err := e.lead.TryLead(tctx, e.self())
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("take the lead", "err", err)
		}
		return nil
	}
	if term == nil {
		return nil
	}
	if err := e.startTerm(ctx, term); err != nil {
		if ctx.Err() == nil {
			e.log.Error("take the lead", "err", err)
		}
		return nil
	}
	return term
}

func (e *Engine) self() store.Replica { return store.Replica{ID: e.owner, URL: e.advertiseURL()} }

// campaign leads whenever this replica holds the lead, until ctx ends; term
// is the one firstTry took, if any.
func (e *Engine) campaign(ctx context.Context, term store.Term) {
	for {
		if term != nil {
			e.leadTerm(ctx, term)
			term = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(tryEvery):
		}
		t, err := e.lead.TryLead(ctx, e.self())
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("take the lead", "err", err)
			}
			continue
		}
		if t == nil {
			continue
		}
		if err := e.startTerm(ctx, t); err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.Error("take the lead", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retakeAfter):
			}
			continue
		}
		term = t
	}
}

// startTerm makes this replica the writer: it reloads what the previous
// leader left. On failure it resigns.
func (e *Engine) startTerm(ctx context.Context, term store.Term) error {
	if err := e.manager.Lead(ctx); err != nil {
		e.manager.Follow()
		term.Resign()
		return err
	}
	e.eval.Reset()
	// A cleared series a past term could not write is that term's news:
	// this term evaluates from what it sees.
	e.evalMu.Lock()
	e.unapplied = nil
	e.evalMu.Unlock()
	if err := e.restoreRuleAlerts(ctx); err != nil {
		e.manager.Follow()
		term.Resign()
		return err
	}
	e.leading.Store(true)
	e.log.Info("leading: evaluating rules and running the alert lifecycle", "replica", e.owner)
	// Self-alerts about channels follow every replica's view of them now
	// (channelhealth.go), read afresh: raised for channels failing on any
	// replica, resolved for the others once the reports could be read.
	e.forgetBoard()
	e.refreshSelfAlerts(ctx)
	return nil
}

// leadTerm runs the lifecycle for a term startTerm began, until the term
// is lost or ctx ends.
func (e *Engine) leadTerm(ctx context.Context, term store.Term) {
	defer term.Resign()
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	e.runLifecycle(lctx, &wg)
	select {
	case <-term.Lost():
		e.log.Warn("lost the lead: following", "replica", e.owner)
	case <-ctx.Done():
	}
	// Writes stop first (the API forwards from now on, and the manager
	// refuses what was already under way); the loops end at their next step.
	e.leading.Store(false)
	e.manager.Follow()
	cancel()
	wg.Wait()
}

// advertiseURL is where other replicas reach this one's API.
func (e *Engine) advertiseURL() string {
	if e.s.advertiseURL != "" {
		return trimSlash(e.s.advertiseURL)
	}
	addr := e.Addr()
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// handler is the API, behind the forwarding to the leader in a replica set.
func (e *Engine) handler() http.Handler {
	if e.lead == nil {
		return e.api
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// A leader that accepts the connection but never answers frees the
	// follower's request after this; the API's slowest call is far shorter.
	tr.ResponseHeaderTimeout = time.Minute
	return &forwarder{e: e, transport: tr}
}

// forwarder serves requests the leader must answer (everything but this
// replica's own health, readiness, metrics and profiles) by proxying them
// to the leader.
type forwarder struct {
	e         *Engine
	transport http.RoundTripper

	// mu guards the leader last read and when, and the proxy to it.
	mu     sync.Mutex
	leader store.Replica
	readAt time.Time
	proxy  *leaderProxy
}

// leaderProxy forwards to one leader; it is built once per leader, not per
// request.
type leaderProxy struct {
	leader store.Replica
	rp     *httputil.ReverseProxy
}

// leaderFresh is how long a follower trusts the leader it read: a request
// burst costs one query, and a takeover is seen within this.
const leaderFresh = 500 * time.Millisecond

// current returns the leading replica, read again when the last read is
// older than leaderFresh.
func (f *forwarder) current(ctx context.Context) (store.Replica, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.readAt.IsZero() && time.Since(f.readAt) < leaderFresh {
		return f.leader, nil
	}
	r, err := f.e.lead.Leader(ctx)
	if err != nil {
		return r, err
	}
	f.leader, f.readAt = r, time.Now()
	return r, nil
}

// local reports whether a path is answered by every replica itself.
func local(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, "/debug/pprof/")
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := f.e
	if e.leading.Load() || local(r.URL.Path) {
		e.api.ServeHTTP(w, r)
		return
	}
	if by := r.Header.Get(forwardedHeader); by != "" {
		unavailable(w, "this replica is not the leader either (forwarded by another replica); the lead is changing, retry")
		return
	}
	leader, err := f.current(r.Context())
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && leader.ID == e.owner):
		unavailable(w, "no replica leads yet; retry")
		return
	case err != nil:
		e.log.Error("find the leader", "err", err)
		unavailable(w, "cannot find the leading replica; retry")
		return
	case leader.URL == "":
		unavailable(w, "the leading replica serves no API")
		return
	}
	p, err := f.proxyTo(leader)
	if err != nil {
		unavailable(w, "the leading replica advertises an invalid URL")
		return
	}
	p.ServeHTTP(w, r)
}

// proxyTo returns the reverse proxy to leader, reused while the leader and
// its URL stay the same.
func (f *forwarder) proxyTo(leader store.Replica) (*httputil.ReverseProxy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.proxy != nil && f.proxy.leader == leader {
		return f.proxy.rp, nil
	}
	target, err := url.Parse(leader.URL)
	if err != nil {
		return nil, err
	}
	e := f.e
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// The client's Host goes through, so the leader's same-origin
			// check compares the Origin with what the browser addressed.
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set(forwardedHeader, e.owner)
		},
		Transport: f.transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			e.log.Warn("forward to the leader", "leader", leader.ID, "err", err)
			unavailable(w, "the leading replica does not answer; retry")
		},
	}
	f.proxy = &leaderProxy{leader: leader, rp: rp}
	return rp, nil
}

// redactURL hides user info in a URL for logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// unavailable answers 503 in the API's error shape, with a hint to retry.
func unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
