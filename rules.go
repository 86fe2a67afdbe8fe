package klaxon

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/rule"
	ktemplate "github.com/klaxonhq/klaxon/template"
)

// compiledRule is a rule ready to evaluate, with its parsed templates.
type compiledRule struct {
	r           *rule.Rule
	summary     *template.Template
	description *template.Template
	channels    []string
}

// compileRules checks and compiles rules; named are the configuration's
// named templates, which summaries and descriptions may include.
func compileRules(in []Rule, named map[string]string) ([]*compiledRule, error) {
	var errs []error
	seen := map[string]bool{}
	out := make([]*compiledRule, 0, len(in))
	for i, r := range in {
		where := fmt.Sprintf("rules[%d]", i)
		if r.ID != "" {
			where = fmt.Sprintf("rule %q", r.ID)
		}
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("%s: id is used by another rule", where))
			continue
		}
		seen[r.ID] = true
		expr, err := rule.Parse(r.Condition)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: condition %q: %w", where, r.Condition, err))
			continue
		}
		rr := &rule.Rule{
			ID: r.ID, Name: r.Name, Condition: r.Condition, Expr: expr, For: r.For,
			Severity: r.Severity, Labels: r.Labels, Annotations: r.Annotations, Hold: r.Hold,
		}
		if rr.Severity == 0 {
			rr.Severity = alert.Medium
		}
		if r.Recovery != "" {
			if rr.Recovery, err = rule.Parse(r.Recovery); err != nil {
				errs = append(errs, fmt.Errorf("%s: recovery %q: %w", where, r.Recovery, err))
				continue
			}
		}
		if r.NoData != "" {
			if rr.NoData, err = rule.ParseNoDataMode(r.NoData); err != nil {
				errs = append(errs, fmt.Errorf("%s: no_data: %w", where, err))
				continue
			}
		}
		if err := rr.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		c := &compiledRule{r: rr, channels: r.Channels}
		if c.summary, err = parseText(r.ID+".summary", r.Summary, named); err != nil {
			errs = append(errs, fmt.Errorf("%s: summary: %w", where, err))
			continue
		}
		if c.description, err = parseText(r.ID+".description", r.Description, named); err != nil {
			errs = append(errs, fmt.Errorf("%s: description: %w", where, err))
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

func parseText(name, text string, named map[string]string) (*template.Template, error) {
	if text == "" {
		return nil, nil
	}
	return ktemplate.ParseTextWith(name, text, named)
}

// render fills a rule alert's summary and description from its templates.
// A template that fails keeps a plain built-in text, so the alert is never
// lost to a template mistake.
func (e *Engine) render(a *alert.Alert) {
	c, ok := e.rules[a.RuleID]
	if !ok {
		return
	}
	data := ktemplate.AlertData(a)
	if c.summary != nil {
		a.Summary = e.exec(c.summary, data, a)
	} else if a.Summary == "" {
		a.Summary = fallbackSummary(a, c)
	}
	if c.description != nil {
		a.Description = e.exec(c.description, data, a)
	}
}

func (e *Engine) exec(t *template.Template, data any, a *alert.Alert) string {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		e.templateFailed(t.Name(), a, err)
		return fallbackSummary(a, e.rules[a.RuleID])
	}
	return b.String()
}

func fallbackSummary(a *alert.Alert, c *compiledRule) string {
	s := fmt.Sprintf("%s: %s is %g", a.RuleName, c.r.Condition, a.Value)
	if a.RuleName == "" {
		s = fmt.Sprintf("%s: %s is %g", a.RuleID, c.r.Condition, a.Value)
	}
	return s
}

// observation turns an evaluator result into a lifecycle observation.
func (e *Engine) observation(r *rule.Result) lifecycle.Observation {
	o := lifecycle.Observation{
		RuleID: r.Rule.ID, RuleName: r.Rule.DisplayName(), Fingerprint: r.Fingerprint,
		Labels: r.Labels, Value: r.Value, Threshold: r.Threshold, Severity: r.Rule.Severity,
		Annotations: r.Rule.Annotations, Metadata: r.Metadata,
	}
	if c, ok := e.rules[r.Rule.ID]; ok {
		o.Channels = c.channels
	}
	switch r.State {
	case rule.Pending:
		o.Condition = lifecycle.Pending
	case rule.Firing:
		o.Condition = lifecycle.Firing
	case rule.NoData:
		o.Condition = lifecycle.NoData
	default:
		o.Condition = lifecycle.Inactive
	}
	return o
}

// defaultRoutes sends everything to every channel, except that PagerDuty
// channels only get critical and high (it pages people).
func defaultRoutes(chans []notify.ChannelConfig) []*lifecycle.Route {
	var all, pager []string
	for _, c := range chans {
		if c.Type == "pagerduty" {
			pager = append(pager, c.Name)
		} else {
			all = append(all, c.Name)
		}
	}
	var routes []*lifecycle.Route
	if len(pager) > 0 {
		routes = append(routes, &lifecycle.Route{
			Severities: []alert.Severity{alert.Critical, alert.High}, Notify: pager, Continue: true,
		})
	}
	if len(all) > 0 {
		routes = append(routes, &lifecycle.Route{Notify: all})
	}
	return routes
}

func checkRefs(routes []*lifecycle.Route, rules []*compiledRule, chans map[string]notify.ChannelConfig) error {
	var errs []error
	check := func(where, name string) {
		if _, ok := chans[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: unknown channel %q (known: %s)", where, name, strings.Join(sortedKeys(chans), ", ")))
		}
	}
	for i, r := range routes {
		for _, n := range r.Notify {
			check(fmt.Sprintf("routes[%d].notify", i), n)
		}
		for _, n := range r.Failover {
			check(fmt.Sprintf("routes[%d].failover", i), n)
		}
		for j, s := range r.Escalate {
			for _, n := range s.Notify {
				check(fmt.Sprintf("routes[%d].escalate[%d].notify", i, j), n)
			}
		}
	}
	for _, r := range rules {
		for _, n := range r.channels {
			check(fmt.Sprintf("rule %q: channels", r.r.ID), n)
		}
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[string]notify.ChannelConfig) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func newOwnerID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
