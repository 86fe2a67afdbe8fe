package lifecycle

import (
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Route says which alerts go to which channels. Routes are tried in order;
// the first that matches wins unless it sets Continue.
type Route struct {
	// Severities the route accepts; empty accepts every severity.
	Severities []alert.Severity
	// Matchers must all match the alert's labels; empty matches all.
	Matchers alert.Matchers
	// Notify names the channels told about every notifying transition.
	Notify []string
	// Failover is tried in order when a Notify channel fails permanently,
	// runs out of retry budget or has its circuit open.
	Failover []string
	// Escalate steps notify more channels when an active alert is still
	// unacknowledged After its activation.
	Escalate []Escalation
	// GroupBy label names; alerts of this route with equal values for them
	// (within GroupWait) go out as one notification. Empty: no grouping.
	GroupBy []string
	// GroupWait holds the first notification of a group this long to gather
	// more alerts. Zero (the default) sends at once.
	GroupWait time.Duration
	// GroupInterval is the least time between two notifications of one
	// group: an alert that joins a group which notified within it waits
	// until then, with any others that join meanwhile. Zero: no wait.
	GroupInterval time.Duration
	// RepeatInterval renotifies an unacknowledged active alert. Zero never
	// renotifies.
	RepeatInterval time.Duration
	// Continue lets later routes match too.
	Continue bool
}

// Escalation is one escalation step.
type Escalation struct {
	After  time.Duration
	Notify []string
}

// Matches reports whether the route accepts a.
func (r *Route) Matches(a *alert.Alert) bool {
	if len(r.Severities) > 0 && !slices.Contains(r.Severities, a.Severity) {
		return false
	}
	return r.Matchers.Matches(a.Labels)
}

// groupKey names the group a's notifications belong to on route index i, or
// "" when the route does not group.
func (r *Route) groupKey(i int, a *alert.Alert) string {
	if len(r.GroupBy) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("route")
	b.WriteString(itoa(i))
	b.WriteByte(':')
	b.WriteString(string(alert.NewFingerprint("", pick(a.Labels, r.GroupBy))))
	return b.String()
}

func pick(l alert.Labels, names []string) alert.Labels {
	out := make(alert.Labels, len(names))
	for _, n := range names {
		out[n] = l[n]
	}
	return out
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// routing is the resolved delivery plan for one alert.
type routing struct {
	// targets in order, de-duplicated by channel.
	targets []target
	// repeat is the smallest repeat interval of the matched routes (0: none).
	repeat time.Duration
	// escalate holds the steps of the matched routes, sorted by After.
	escalate []Escalation
}

type target struct {
	channel       string
	failover      []string
	groupKey      string
	groupWait     time.Duration
	groupInterval time.Duration
}

// route computes the plan for a. Explicit channels (a rule's own `channels`)
// bypass the routes but keep the first matching route's failover.
func (m *Manager) route(a *alert.Alert, explicit []string) routing {
	var plan routing
	add := func(t target) {
		if m.excludes(a, t.channel) {
			return
		}
		for _, f := range t.failover {
			if m.excludes(a, f) {
				t.failover = m.allowed(a, t.failover)
				break
			}
		}
		// A handful of targets: a scan beats a map allocated per call.
		for _, have := range plan.targets {
			if have.channel == t.channel {
				return
			}
		}
		plan.targets = append(plan.targets, t)
	}
	for i, r := range m.routes {
		if !r.Matches(a) {
			continue
		}
		gk := r.groupKey(i, a)
		chans := r.Notify
		if len(explicit) > 0 {
			chans = explicit
		}
		for _, ch := range chans {
			add(target{channel: ch, failover: without(r.Failover, ch), groupKey: gk, groupWait: r.GroupWait, groupInterval: r.GroupInterval})
		}
		if r.RepeatInterval > 0 && (plan.repeat == 0 || r.RepeatInterval < plan.repeat) {
			plan.repeat = r.RepeatInterval
		}
		plan.escalate = append(plan.escalate, r.Escalate...)
		if !r.Continue || len(explicit) > 0 {
			break
		}
	}
	if len(plan.targets) == 0 {
		for _, ch := range explicit {
			add(target{channel: ch})
		}
	}
	slices.SortStableFunc(plan.escalate, func(x, y Escalation) int { return int(x.After - y.After) })
	return plan
}

// excludes reports whether a must never notify channel (Options.Excluded).
func (m *Manager) excludes(a *alert.Alert, channel string) bool {
	return m.excluded != nil && m.excluded(a, channel)
}

// allowed returns the channels of list a may notify.
func (m *Manager) allowed(a *alert.Alert, list []string) []string {
	if m.excluded == nil || !slices.ContainsFunc(list, func(ch string) bool { return m.excluded(a, ch) }) {
		return list
	}
	out := make([]string, 0, len(list))
	for _, ch := range list {
		if !m.excluded(a, ch) {
			out = append(out, ch)
		}
	}
	return out
}

func without(list []string, s string) []string {
	if !slices.Contains(list, s) {
		return list
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}
