package klaxon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/internal/version"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/metric"
	"github.com/klaxonhq/klaxon/metric/scrape"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/rule"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/postgres"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// Engine is a running klaxon: metrics, rules, alert lifecycle, durable
// delivery and (optionally) the HTTP API. Build it with New, start it with
// Run. Its methods are safe for concurrent use.
type Engine struct {
	s        *setup
	log      *slog.Logger
	now      func() time.Time
	st       store.Store
	ownStore bool
	metrics  *metric.Registry
	eval     *rule.Evaluator
	rules    map[string]*compiledRule
	manager  *lifecycle.Manager
	disp     *notify.Dispatcher
	api      *api.Server
	channels map[string]notify.ChannelConfig
	interval time.Duration
	evalDur  prometheus.Histogram
	tmpl     *templateGuard
	scrapers []*scrape.Scraper
	// owner names this process: the dispatcher's lease owner and, in a
	// replica set, the replica.
	owner string
	// lead is set when the store is shared by replicas (replica.go).
	lead    store.Leadership
	leading atomic.Bool

	// evalMu serialises evaluation cycles (Evaluate) and guards
	// unapplied.
	evalMu sync.Mutex
	// unapplied holds the Inactive observations of a cycle whose write
	// failed: the evaluator reports a cleared series once, so they are
	// submitted again until a write succeeds or a newer cycle reports the
	// series.
	unapplied []lifecycle.Observation

	// mu guards addr and health alerts.
	mu       sync.Mutex
	addr     string
	listener net.Listener
	ready    chan struct{}
	selfq    chan notify.ChannelHealth
	// health decides the self-alerts about channels (channelhealth.go).
	health *channelHealth
}

// New builds an engine: it opens the store, loads open alerts and
// silences, checks rules and channels. Nothing runs until Run.
func New(opts ...Option) (*Engine, error) {
	s := &setup{getenv: os.Getenv}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if err := s.applyConfig(); err != nil {
		return nil, err
	}
	e := &Engine{
		s: s, log: s.logger, ready: make(chan struct{}),
		selfq: make(chan notify.ChannelHealth, 64),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.now = s.now
	if e.now == nil {
		e.now = time.Now
	}
	e.interval = cmp.Or(s.interval, 15*time.Second)
	ctx := context.Background()

	reg := s.registerer
	if reg == nil {
		pr := prometheus.NewRegistry()
		pr.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		reg, s.gatherer = pr, pr
	}
	e.tmpl = newTemplateGuard(reg)

	// Metrics and rules.
	dataDir := cmp.Or(s.dataDir, "./klaxon-data")
	e.metrics = metric.NewRegistry(&metric.Options{Now: e.now, DataDir: dataDir})
	for _, p := range s.providers {
		if err := e.metrics.RegisterProvider(p.name, p.p); err != nil {
			return nil, fmt.Errorf("provider %q: %w", p.name, err)
		}
	}
	for i, t := range s.scrapes {
		// Read as often as rules look, unless told otherwise.
		t.Interval = cmp.Or(t.Interval, e.interval)
		sc, err := scrape.New(t, e.metrics, nil, e.log)
		if err != nil {
			return nil, fmt.Errorf("scrape[%d]: %w", i, err)
		}
		e.scrapers = append(e.scrapers, sc)
	}
	var named map[string]string
	if s.cfg != nil {
		named = s.cfg.Templates
	}
	rules, err := compileRules(s.rules, named)
	if err != nil {
		return nil, err
	}
	e.rules = map[string]*compiledRule{}
	plain := make([]*rule.Rule, 0, len(rules))
	for _, r := range rules {
		e.rules[r.r.ID] = r
		plain = append(plain, r.r)
	}
	e.eval = rule.NewEvaluator(e.metrics, nil)
	if err := e.eval.SetRules(plain); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}

	// Channels.
	e.channels = map[string]notify.ChannelConfig{}
	for _, c := range s.channels {
		if _, dup := e.channels[c.Name]; dup {
			return nil, fmt.Errorf("channel %q is defined twice", c.Name)
		}
		e.channels[c.Name] = c
	}
	routes := s.routes
	if len(routes) == 0 && len(s.channels) > 0 {
		routes = defaultRoutes(s.channels)
	}
	if err := checkRefs(routes, rules, e.channels); err != nil {
		return nil, err
	}

	// Store.
	if s.st != nil {
		e.st = s.st
	} else {
		if !s.databaseURL.IsZero() {
			e.st, err = postgres.Open(ctx, s.databaseURL.Reveal(), nil)
		} else {
			if err := os.MkdirAll(dataDir, 0o750); err != nil {
				return nil, fmt.Errorf("create data dir: %w", err)
			}
			e.st, err = sqlite.Open(ctx, filepath.Join(dataDir, "klaxon.db"), nil)
		}
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		e.ownStore = true
	}

	// Delivery and lifecycle share one lease owner so records written by
	// the lifecycle go straight to the dispatcher's workers.
	owner := "klaxon-" + newOwnerID()
	e.owner = owner
	e.lead, _ = e.st.(store.Leadership)
	// A lone process frees a crashed predecessor's leases at start, so
	// their length matters little there. In a replica set a crashed
	// replica's records wait for their leases to end: shorter ones,
	// renewed every third of their length, bound that wait.
	var leaseFor time.Duration
	if e.lead != nil {
		leaseFor = replicaLease
	}
	nm := notify.NewMetrics(reg)
	chans := make([]notify.ChannelConfig, 0, len(e.channels))
	for _, c := range s.channels {
		chans = append(chans, c)
	}
	e.disp, err = notify.NewDispatcher(notify.DispatcherOptions{
		Store: e.st, Channels: chans, Owner: owner, Now: e.now, Logger: e.log, Metrics: nm, LeaseFor: leaseFor,
		ExternalURL: e.alertURL,
		OnHealth: func(h notify.ChannelHealth) {
			select {
			case e.selfq <- h:
			default:
			}
		},
	})
	if err != nil {
		e.closeStore()
		return nil, err
	}
	board, _ := e.st.(store.HealthBoard)
	e.health = &channelHealth{
		board: board, every: boardEvery, report: boardReport, stale: boardStale,
		view: e.disp.Health, raised: map[string]string{},
	}
	e.manager, err = lifecycle.New(ctx, lifecycle.Options{
		Store: e.st, Routes: routes, Now: e.now, Logger: e.log, Owner: owner, LeaseFor: leaseFor,
		OnEnqueue: e.disp.Enqueue, Render: e.render, Excluded: excludedChannel, ResolveTimeout: s.resolveTimeout(),
		HistoryRetention: s.history().Retention, HistoryKeep: s.history().MaxResolved,
		// A replica changes alerts only once it leads (replica.go).
		Follower: e.lead != nil,
	})
	if err != nil {
		e.closeStore()
		return nil, err
	}
	if e.lead == nil {
		if err := e.restoreRuleAlerts(ctx); err != nil {
			e.closeStore()
			return nil, err
		}
		e.leading.Store(true)
	}
	e.evalDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "klaxon_rule_evaluation_seconds",
		Help:    "Time to evaluate every rule once and apply the results.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	reg.MustRegister(e.evalDur, alertsCollector{e})

	if s.listen != "" {
		if s.token.IsZero() && !loopback(s.listen) {
			e.closeStore()
			return nil, fmt.Errorf("listen %s: an API token is required when listening beyond loopback (server.api_token or WithAPIToken)", s.listen)
		}
		e.api, err = api.New(api.Options{
			Manager: e.manager, Store: e.st, Dispatcher: e.disp, Metrics: e.metrics,
			Test: e.TestChannel, Gatherer: s.gatherer, Token: s.token, Ready: e.readyCheck,
			Now: e.now, Logger: e.log, Version: version.Version, Profiling: s.profiling,
			Hosts: urlHosts(s.externalURL, s.advertiseURL),
		})
		if err != nil {
			e.closeStore()
			return nil, err
		}
	}
	return e, nil
}

// urlHosts returns the host names of the URLs that parse.
func urlHosts(urls ...string) []string {
	var out []string
	for _, s := range urls {
		if u, err := url.Parse(s); err == nil && u.Hostname() != "" {
			out = append(out, u.Hostname())
		}
	}
	return out
}

func (e *Engine) closeStore() {
	if e.ownStore && e.st != nil {
		_ = e.st.Close()
	}
}

// Run starts evaluation, delivery and the HTTP API, and blocks until ctx
// ends. It then stops accepting work, lets in-flight sends finish (up to 5s),
// and closes the store; undelivered notifications stay queued durably.
func (e *Engine) Run(ctx context.Context) error {
	var srv *http.Server
	if e.api != nil {
		ln, err := net.Listen("tcp", e.s.listen)
		if err != nil {
			e.closeStore()
			return fmt.Errorf("listen on %s: %w", e.s.listen, err)
		}
		e.mu.Lock()
		e.addr, e.listener = ln.Addr().String(), ln
		e.mu.Unlock()
		srv = &http.Server{Handler: e.handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.log.Error("http server", "err", err)
			}
		}()
		e.log.Info("klaxon listening", "addr", e.addr)
	}
	// The dispatcher stops last: records the lifecycle writes while it
	// stops still reach a running dispatcher, whose shutdown then hands
	// back the leases of what it could not send (notify.Dispatcher.Run).
	dctx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDispatch()
	var dwg, wg sync.WaitGroup
	dwg.Go(func() {
		if err := e.disp.Run(dctx); err != nil {
			e.log.Error("dispatcher stopped", "err", err)
		}
	})
	// Every replica drains its channel-health events; only a leader raises
	// self-alerts from them.
	wg.Go(func() { e.selfAlertLoop(ctx) })
	// Every replica scrapes, so one that takes the lead has its windows.
	for _, sc := range e.scrapers {
		wg.Go(func() { sc.Run(ctx) })
	}
	if e.lead != nil {
		term := e.firstTry(ctx)
		wg.Go(func() { e.campaign(ctx, term) })
	} else {
		e.runLifecycle(ctx, &wg)
	}
	close(e.ready)
	<-ctx.Done()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
	}
	wg.Wait()
	stopDispatch()
	dwg.Wait()
	e.closeStore()
	return nil
}

// Ready is closed once Run has started every loop (and the listener).
func (e *Engine) Ready() <-chan struct{} { return e.ready }

// Addr returns the HTTP API's address once Run listens ("" before, or when
// no listen address is set).
func (e *Engine) Addr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}

func (e *Engine) readyCheck(ctx context.Context) error {
	select {
	case <-e.ready:
	default:
		return errors.New("engine is starting")
	}
	_, err := e.st.NotificationStats(ctx, e.now())
	return err
}

// Metrics returns the metric registry: record requests and samples here,
// or register providers.
func (e *Engine) Metrics() *metric.Registry { return e.metrics }

// Manager returns the alert lifecycle manager (acknowledge, resolve, push,
// silences).
func (e *Engine) Manager() *lifecycle.Manager { return e.manager }

// Store returns the engine's store.
func (e *Engine) Store() store.Store { return e.st }

// Alerts returns the open alerts (none on a follower of a replica set: see
// Leading).
func (e *Engine) Alerts() []*alert.Alert { return e.manager.Open() }

// Channels returns every channel's delivery health.
func (e *Engine) Channels() []notify.ChannelHealth { return e.disp.Health() }

// Evaluate runs one evaluation cycle now (tests, and `klaxon` tools that
// want an answer without waiting for the interval). Cycles run one at a
// time: two at once could apply their results out of order, and an older
// cycle's "firing" would open the alert a newer one had just resolved.
func (e *Engine) Evaluate(ctx context.Context) error {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	start := time.Now()
	now := e.now()
	e.metrics.Collect(now)
	results := e.eval.Eval(now)
	obs := make([]lifecycle.Observation, 0, len(results)+len(e.unapplied))
	for i := range results {
		obs = append(obs, e.observation(&results[i]))
	}
	if len(e.unapplied) > 0 {
		// Only after a failed write: a series this cycle reports speaks
		// for itself.
		seen := make(map[alert.Fingerprint]bool, len(obs))
		for i := range obs {
			seen[obs[i].Fingerprint] = true
		}
		for _, o := range e.unapplied {
			if !seen[o.Fingerprint] {
				obs = append(obs, o)
			}
		}
	}
	err := e.manager.Observe(ctx, obs)
	e.unapplied = e.unapplied[:0]
	if err != nil {
		for _, o := range obs {
			if o.Condition == lifecycle.Inactive {
				e.unapplied = append(e.unapplied, o)
			}
		}
	}
	e.evalDur.Observe(time.Since(start).Seconds())
	return err
}

func (e *Engine) evalLoop(ctx context.Context) {
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		if err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("evaluate rules", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (e *Engine) tickLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.manager.Tick(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("lifecycle tick", "err", err)
		}
		if time.Since(lastPrune) > 10*time.Minute {
			lastPrune = time.Now()
			if n, err := e.manager.Prune(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("prune history", "err", err)
			} else if n > 0 {
				e.log.Info("pruned resolved alerts", "count", n)
			}
		}
	}
}

// TestChannel sends a sample notification through one channel directly
// (not through the queue) and returns the receiver's answer.
func (e *Engine) TestChannel(ctx context.Context, name string) (notify.Receipt, error) {
	c, ok := e.channels[name]
	if !ok {
		return notify.Receipt{}, store.ErrNotFound
	}
	n := notify.SampleNotification(name, e.now())
	n.ExternalURL = e.alertURL(n.Alert())
	timeout := c.Retry.WithDefaults().Timeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return c.Channel.Send(ctx, n)
}

func (e *Engine) alertURL(a *alert.Alert) string {
	if e.s.externalURL == "" || a == nil {
		return ""
	}
	return trimSlash(e.s.externalURL) + "/api/v1/alerts/" + a.ID
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// runLifecycle starts rule evaluation and the lifecycle's timers: always in a
// single process, only while leading in a replica set.
func (e *Engine) runLifecycle(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() { e.evalLoop(ctx) })
	wg.Go(func() { e.tickLoop(ctx) })
}

// alertsCollector exports klaxon_alerts{state} from the lifecycle, and
// klaxon_leader. A follower's lifecycle is not current, so it exports no
// alert counts: sum klaxon_alerts over replicas and each alert counts once.
type alertsCollector struct{ e *Engine }

var (
	alertsDesc = prometheus.NewDesc("klaxon_alerts", "Open alerts by state (exported by the leading replica).", []string{"state"}, nil)
	leaderDesc = prometheus.NewDesc("klaxon_leader", "1 when this replica leads (runs evaluation and the alert lifecycle).", nil, nil)
)

func (c alertsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- alertsDesc; ch <- leaderDesc }
func (c alertsCollector) Collect(ch chan<- prometheus.Metric) {
	leading := c.e.leading.Load()
	v := 0.0
	if leading {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, v)
	if !leading {
		return
	}
	counts := c.e.manager.OpenCount()
	for _, st := range alert.States {
		if st == alert.StateResolved {
			continue
		}
		ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

// Close releases the store of an engine that was built but never Run (Run
// closes it itself).
func (e *Engine) Close() error {
	select {
	case <-e.ready:
		return nil
	default:
	}
	if e.ownStore && e.st != nil {
		return e.st.Close()
	}
	return nil
}

// loopback reports whether addr only listens on the loopback interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") { // as check-config judges it
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// restoreRuleAlerts hands the open rule alerts loaded from the store back to
// the evaluator, so a restarted engine resolves them when their condition
// is clear. An open alert of a rule that is no longer configured is resolved
// now: nothing would ever evaluate it again.
func (e *Engine) restoreRuleAlerts(ctx context.Context) error {
	for _, a := range e.manager.Open() {
		if a.Source != "rule" {
			continue
		}
		state, since := rule.Firing, a.StartedAt
		if a.ActiveAt != nil {
			since = *a.ActiveAt
		}
		if a.State == alert.StatePending {
			state, since = rule.Pending, a.StartedAt
		}
		if e.eval.Restore(a.RuleID, a.Labels, state, since) {
			continue
		}
		if _, known := e.rules[a.RuleID]; known {
			e.log.Warn("open alert does not map back to its rule's series; it resolves by hand", "alert", a.ID, "rule", a.RuleID)
			continue
		}
		if _, err := e.manager.Resolve(ctx, a.ID, "klaxon", "rule "+a.RuleID+" is no longer configured"); err != nil {
			return fmt.Errorf("resolve alert %s of removed rule %s: %w", a.ID, a.RuleID, err)
		}
	}
	return nil
}
