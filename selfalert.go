package klaxon

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
)

// SelfAlertName is the alertname of the alert klaxon raises about itself
// when a channel keeps failing (circuit open, endpoint gone, retry budget
// spent). It is routed to every other channel, never to the failing one.
const SelfAlertName = "klaxon_channel_failing"

// excludedChannel keeps a self-alert off the channel it is about, even when
// no other channel is configured (it then notifies nobody, and is listed in
// the API and the dashboard) or a route, failover chain or escalation step
// names that channel.
func excludedChannel(a *alert.Alert, channel string) bool {
	return a.Source == "api" && a.Labels["alertname"] == SelfAlertName && a.Labels["source"] == "klaxon" &&
		a.Labels["channel"] == channel
}

// selfAlertRefresh is how often the leader raises self-alerts again from
// every channel's health: an open one's end time moves on (it ends by
// itself only if klaxon stops looking), and a raise or resolution that a
// full queue dropped is made up for.
const selfAlertRefresh = 10 * time.Minute

func (e *Engine) selfAlertLoop(ctx context.Context) {
	refresh := time.NewTicker(selfAlertRefresh)
	defer refresh.Stop()
	tick := time.NewTicker(e.health.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			e.withdrawHealth(ctx)
			return
		case <-refresh.C:
			if e.leading.Load() {
				e.refreshSelfAlerts(ctx)
			}
		case <-tick.C:
			// The heartbeat keeps this replica's reports fresh; the leader
			// reads the others' and makes up for a raise or resolution a
			// full queue dropped.
			if e.reportDue() {
				e.reportHealth(ctx)
			}
			if e.leading.Load() {
				read := e.readBoard(ctx)
				e.reconcileSelfAlerts(ctx, read && e.health.takeRefresh())
			}
		case h := <-e.selfq:
			e.reportHealth(ctx)
			if !e.leading.Load() {
				// A follower reports (above); the leader raises the
				// self-alert from every replica's reports.
				if !h.Healthy {
					e.log.Warn("channel is failing on this follower", "channel", h.Name, "circuit", h.Circuit, "last_error", h.LastError)
				}
				continue
			}
			e.reconcileSelfAlerts(ctx, false)
		case f := <-e.tmpl.q:
			if !e.leading.Load() {
				continue // templates render in the leader's lifecycle only
			}
			if err := e.raiseTemplateFailed(ctx, f); err != nil && ctx.Err() == nil {
				e.log.Error("raise self-alert", "template", f.name, "err", err)
			}
		}
	}
}

// refreshSelfAlerts raises or resolves every channel's self-alert from
// every replica's view now: at a takeover, and every selfAlertRefresh so an
// open one's end time moves on.
func (e *Engine) refreshSelfAlerts(ctx context.Context) {
	e.readBoard(ctx)
	e.reconcileSelfAlerts(ctx, true)
}

// takeRefresh says whether a forced reconcile waits for a successful read
// of the board, and clears it.
func (ch *channelHealth) takeRefresh() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	r := ch.refreshAfterRead
	ch.refreshAfterRead = false
	return r
}

// TemplateFailedName is the alertname of the alert klaxon raises about
// itself when a rule's summary or description template fails to render at
// runtime. The notification still goes out with a built-in text; this alert
// (severity medium, label template=NAME) says which template to fix. It is
// raised at most once an hour per template and resolves by itself a day
// after the last failure.
const TemplateFailedName = "klaxon_template_failed"

// templateRaiseEvery bounds how often one failing template re-raises (and
// so extends) its self-alert.
const templateRaiseEvery = time.Hour

// templateFailure is one runtime template failure waiting to be raised.
type templateFailure struct {
	name, ruleID, err string
}

// templateGuard counts runtime template failures and queues self-alerts
// about them. Rendering happens inside the lifecycle's transitions, so the
// self-alert cannot be pushed from there: it is queued and pushed by
// selfAlertLoop.
type templateGuard struct {
	failures prometheus.Counter
	q        chan templateFailure

	// mu guards raised.
	mu     sync.Mutex
	raised map[string]time.Time
}

func newTemplateGuard(reg prometheus.Registerer) *templateGuard {
	g := &templateGuard{
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_template_failures_total",
			Help: "Templates that failed to render at runtime; each notification went out with a built-in text instead.",
		}),
		q:      make(chan templateFailure, 64),
		raised: map[string]time.Time{},
	}
	reg.MustRegister(g.failures)
	return g
}

// templateFailed logs and counts a template that failed on a, and queues a
// self-alert about it unless one was raised for the same template within
// templateRaiseEvery.
func (e *Engine) templateFailed(name string, a *alert.Alert, err error) {
	e.log.Warn("render rule template; using the built-in text", "template", name, "rule", a.RuleID, "err", err)
	g := e.tmpl
	g.failures.Inc()
	now := e.now()
	g.mu.Lock()
	last, seen := g.raised[name]
	if seen && now.Sub(last) < templateRaiseEvery {
		g.mu.Unlock()
		return
	}
	g.raised[name] = now
	g.mu.Unlock()
	select {
	case g.q <- templateFailure{name: name, ruleID: a.RuleID, err: err.Error()}:
	default:
		// The queue is full of other failures: forget this raise so the
		// next failure of the template tries again.
		g.mu.Lock()
		delete(g.raised, name)
		g.mu.Unlock()
	}
}

func (e *Engine) raiseTemplateFailed(ctx context.Context, f templateFailure) error {
	_, err := e.manager.Push(ctx, []lifecycle.Pushed{{
		Labels:      alert.Labels{"alertname": TemplateFailedName, "template": f.name, "source": "klaxon"},
		Severity:    alert.Medium,
		Summary:     "Template " + f.name + " fails to render",
		Description: "Notifications of rule " + f.ruleID + " go out with a built-in text until the template is fixed: " + f.err,
		EndsAt:      e.now().Add(24 * time.Hour),
	}})
	return err
}
