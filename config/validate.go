package config

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	idRE       = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	metricRE   = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:.]*$`)
	colRE      = regexp.MustCompile(`^col (\d+):`)
	operators  = []string{">", ">=", "<", "<=", "==", "!="}
	noDataMode = []string{"keep", "resolve", "alert"}
)

// validator checks a decoded (and defaulted) configuration, reporting at
// the nodes of the document it came from.
type validator struct {
	d    *decoder
	root *yaml.Node
	c    *Config
}

// at returns the node at path, or the nearest enclosing node that exists.
func (v *validator) at(path string) *yaml.Node {
	if v.root == nil {
		return nil
	}
	n, _ := nodeAt(v.root, path)
	return n
}

// has reports whether path exists in the document.
func (v *validator) has(path string) bool {
	if v.root == nil {
		return false
	}
	_, ok := nodeAt(v.root, path)
	return ok
}

func (v *validator) add(path, format string, args ...any) {
	n := v.at(path)
	v.d.addAt(n, path, "%s", v.scrub(n, fmt.Sprintf(format, args...)))
}

// scrub replaces an expanded value in msg by the text it was expanded from
// ("${TOKEN}"), since a variable may hold a secret.
func (v *validator) scrub(n *yaml.Node, msg string) string {
	if n == nil {
		return msg
	}
	if shown, ok := v.d.shown[n]; ok && len(n.Value) >= 4 {
		msg = strings.ReplaceAll(msg, n.Value, shown)
	}
	return msg
}

func (d *decoder) validate(c *Config, root *yaml.Node) {
	v := &validator{d: d, root: root, c: c}
	v.server()
	if c.History.MaxResolved < 0 {
		v.add("history.max_resolved", "must not be negative")
	}
	for _, name := range slices.Sorted(maps.Keys(c.Channels)) {
		v.channel(name, c.Channels[name])
	}
	for i, r := range c.Routes {
		v.route(index("routes", i), r)
	}
	ids := map[string]int{}
	for i, r := range c.Rules {
		path := index("rules", i)
		if r.ID != "" {
			if first, dup := ids[r.ID]; dup {
				v.add(path+".id", "duplicate rule id %q (first used by rules[%d])", r.ID, first)
			} else {
				ids[r.ID] = i
			}
		}
		v.rule(path, r)
	}
	own := map[string]string{}
	for _, r := range c.Rules {
		if r != nil && r.ID != "" {
			own[r.ID+".summary"], own[r.ID+".description"] = r.ID, r.ID
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Templates)) {
		path := join("templates", name)
		if id, clash := own[name]; clash {
			v.add(path, "%q is the name of rule %s's own text; choose another name", name, id)
			continue
		}
		if n := definedTemplates(name, c.Templates[name]); n > 1 {
			v.add(path, "defines other templates ({{define}} or {{block}}): give each its own templates: entry")
			continue
		}
		v.template(path, name, c.Templates[name])
	}
	targets := map[string]int{}
	for i, t := range c.Scrape {
		path := index("scrape", i)
		v.scrape(path, t)
		// Two targets with the same labels would write the same series.
		if id, ok := scrapeIdentity(t); ok {
			if first, dup := targets[id]; dup {
				v.add(path+".labels", "the same labels as scrape[%d] (their series would overwrite each other): set labels to tell them apart, e.g. instance or job", first)
			} else {
				targets[id] = i
			}
		}
	}
}

// scrapeIdentity is what names a target's series: its labels, with
// instance defaulting to the URL's host:port.
func scrapeIdentity(t *ScrapeTarget) (string, bool) {
	if t == nil {
		return "", false
	}
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" {
		return "", false
	}
	l := map[string]string{"instance": u.Host}
	maps.Copy(l, t.Labels)
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		b.WriteString(k + "\x00" + l[k] + "\x00")
	}
	return b.String(), true
}

func (v *validator) scrape(path string, t *ScrapeTarget) {
	if t == nil {
		v.add(path, "empty scrape target (want url: and optional interval, timeout, labels, metrics)")
		return
	}
	u, err := url.Parse(t.URL)
	switch {
	case t.URL == "":
		v.add(path+".url", "required (the metrics page, e.g. http://127.0.0.1:9100/metrics)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.add(path+".url", "invalid URL (want http:// or https:// and a host)")
	case u.User != nil:
		v.add(path+".url", "must not contain user info: use bearer_token")
	}
	if t.Interval != 0 && t.Interval < time.Second {
		v.add(path+".interval", "must be at least 1s")
	}
	if t.Timeout < 0 {
		v.add(path+".timeout", "must not be negative")
	} else if t.Interval != 0 && t.Timeout > t.Interval {
		v.add(path+".timeout", "%s is longer than interval %s", t.Timeout, t.Interval)
	}
	if t.SampleLimit < 0 {
		v.add(path+".sample_limit", "must not be negative")
	}
	for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
		if !labelNameRE.MatchString(k) || strings.HasPrefix(k, "__") {
			v.d.addAt(v.keyAt(path+".labels", k), join(path+".labels", k),
				"invalid label name %q (want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", k)
		}
	}
	for i, m := range t.Metrics {
		if !metricRE.MatchString(m) {
			v.add(index(path+".metrics", i), "invalid metric name %q", m)
		}
	}
}

func (v *validator) server() {
	s := v.c.Server
	host, port, err := net.SplitHostPort(s.Listen)
	if err != nil {
		v.add("server.listen", "invalid address %q (want host:port, e.g. 127.0.0.1:9095)", s.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		v.add("server.listen", "invalid port %q in %q", port, s.Listen)
	} else if !s.APIToken.IsZero() && strings.TrimSpace(s.APIToken.Reveal()) == "" {
		v.add("server.api_token", "is blank (only whitespace): set a token, or remove the key for none")
	} else if s.APIToken.IsZero() && !isLoopback(host) {
		at := "server.listen"
		if !v.has(at) {
			at = "server"
		}
		n := v.at(at)
		v.d.addAt(n, "server.api_token", "%s", v.scrub(n, "required when listening on "+s.Listen))
	}
	if s.ExternalURL != "" {
		u, err := url.Parse(s.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// Shown without user info and query, which may hold secrets.
			shown := ""
			if err == nil {
				c := *u
				if c.RawQuery != "" {
					c.RawQuery = "..."
				}
				shown = " " + strconv.Quote(c.Redacted())
			}
			v.add("server.external_url", "invalid URL%s (want http:// or https:// and a host)", shown)
		}
	}
	if s.AdvertiseURL != "" {
		u, err := url.Parse(s.AdvertiseURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.add("server.advertise_url", "invalid URL (want http:// or https:// and a host)")
		case u.User != nil:
			// Followers send the client's own Authorization header; a
			// password here would only end up in the database and logs.
			v.add("server.advertise_url", "must not contain user info (%s): replicas forward the client's credentials", u.Redacted())
		}
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *validator) channel(name string, ch *Channel) {
	path := join("channels", name)
	if !idRE.MatchString(name) {
		v.d.addAt(v.keyAt("channels", name), path, "invalid channel name %q (use letters, digits, _ . -)", name)
	}
	r := ch.Retry
	if r.MaxAttempts < 0 {
		v.add(path+".retry.max_attempts", "must not be negative")
	}
	if !(r.Jitter >= 0 && r.Jitter <= 1) { // NaN fails too
		v.add(path+".retry.jitter", "must be between 0 and 1")
	}
	if r.InitialBackoff > r.MaxBackoff {
		v.add(path+".retry.initial_backoff", "%s is longer than max_backoff %s", r.InitialBackoff, r.MaxBackoff)
	}
	if ch.Breaker.Failures < 0 {
		v.add(path+".breaker.failures", "must not be negative")
	}
	if ch.Breaker.OpenFor < 0 {
		v.add(path+".breaker.open_for", "must not be negative")
	}
	if ch.Concurrency < 0 || ch.Concurrency > MaxConcurrency {
		v.add(path+".concurrency", "must be between 0 and %d (0 takes the channel type's default)", MaxConcurrency)
	}
	if ch.MaxHeld < 0 {
		v.add(path+".max_held", "must not be negative (0 takes the default, 10000)")
	}
	if rl := ch.RateLimit; rl != nil {
		if !(rl.PerSecond > 0) || math.IsInf(rl.PerSecond, 0) { // NaN fails too
			v.add(path+".rate_limit.per_second", "required, a finite number greater than 0")
		}
		if rl.Burst < 0 {
			v.add(path+".rate_limit.burst", "must not be negative")
		}
	}
}

// keyAt returns the key node of name in the mapping at path.
func (v *validator) keyAt(path, name string) *yaml.Node {
	m := v.at(path)
	if m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if resolve(m.Content[i]).Value == name {
				return m.Content[i]
			}
		}
	}
	return m
}

// refs checks that every name in list is a defined channel.
func (v *validator) refs(path string, list []string) {
	for i, name := range list {
		if _, ok := v.c.Channels[name]; ok {
			continue
		}
		if v.d.opts != nil && slices.Contains(v.d.opts.KnownChannels, name) {
			continue
		}
		names := slices.Sorted(maps.Keys(v.c.Channels))
		msg := fmt.Sprintf("unknown channel %q", name)
		if best := closest(name, names); best != "" {
			msg += " (did you mean " + best + "?)"
		} else if len(names) > 0 {
			msg += " (defined: " + strings.Join(names, ", ") + ")"
		} else {
			msg += " (no channels are defined)"
		}
		v.add(index(path, i), "%s", msg)
	}
}

func (v *validator) route(path string, r *Route) {
	for name := range r.Match.Labels {
		if !labelNameRE.MatchString(name) {
			v.d.addAt(v.keyAt(path+".match.labels", name), path+".match.labels."+name, "invalid label name %q", name)
		}
	}
	for i, s := range r.Match.LabelMatchers {
		if _, err := ParseLabelMatcher(s); err != nil {
			v.add(index(path+".match.label_matchers", i), "%s", err)
		}
	}
	v.refs(path+".notify", r.Notify)
	v.refs(path+".failover", r.Failover)
	for i, e := range r.Escalate {
		ep := index(path+".escalate", i)
		if e.After <= 0 {
			v.add(ep+".after", "required, greater than 0")
		}
		if len(e.Notify) == 0 {
			v.add(ep+".notify", "required: the channels this step notifies")
		}
		v.refs(ep+".notify", e.Notify)
	}
	for i, l := range r.GroupBy {
		if !labelNameRE.MatchString(l) && l != "..." {
			v.add(index(path+".group_by", i), "invalid label name %q", l)
		}
	}
}

func (v *validator) rule(path string, r *Rule) {
	switch {
	case r.ID == "":
		v.add(path+".id", "required")
	case !idRE.MatchString(r.ID):
		v.add(path+".id", "invalid rule id %q (use letters, digits, _ . -)", r.ID)
	}
	structured := r.Metric != "" || r.Operator != "" || r.Threshold != nil
	switch {
	case r.Condition != "" && structured:
		at := path + ".metric"
		if !v.has(at) {
			at = path + ".operator"
			if !v.has(at) {
				at = path + ".threshold"
			}
		}
		v.add(at, "use either condition or metric, operator and threshold, not both")
	case r.Condition != "":
		v.condition(path+".condition", r.Condition)
	case structured:
		ok := true
		if r.Metric == "" {
			v.add(path+".metric", "required with operator and threshold")
			ok = false
		} else if !metricRE.MatchString(r.Metric) {
			v.add(path+".metric", "invalid metric name %q", r.Metric)
			ok = false
		}
		if r.Operator == "" {
			v.add(path+".operator", "required with metric and threshold (one of %s)", strings.Join(operators, " "))
			ok = false
		} else if !slices.Contains(operators, r.Operator) {
			v.add(path+".operator", "unknown operator %q (want one of %s)", r.Operator, strings.Join(operators, " "))
			ok = false
		}
		if r.Threshold == nil {
			v.add(path+".threshold", "required with metric and operator")
			ok = false
		}
		if ok {
			v.condition(path+".metric", r.ConditionText())
		}
	default:
		v.add(path+".condition", "required (or metric, operator and threshold)")
	}
	if r.Recovery != "" {
		v.condition(path+".recovery", r.Recovery)
	}
	if !slices.Contains(noDataMode, r.NoData) {
		v.add(path+".no_data", "unknown no_data mode %q (want keep, resolve or alert)", r.NoData)
	}
	for name := range r.Labels {
		if !labelNameRE.MatchString(name) {
			v.d.addAt(v.keyAt(path+".labels", name), path+".labels."+name, "invalid label name %q", name)
		}
	}
	v.refs(path+".channels", r.Channels)
	id := cmp.Or(r.ID, path)
	if r.Summary != "" {
		v.template(path+".summary", id+".summary", r.Summary)
	}
	if r.Description != "" {
		v.template(path+".description", id+".description", r.Description)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Annotations)) {
		v.template(path+".annotations."+k, id+"."+k, r.Annotations[k])
	}
}

// condition checks a condition with LoadOptions.ParseCondition and reports
// its error at the condition, moved to the column the error names when the
// text sits on one line of the file as written.
func (v *validator) condition(path, text string) {
	if v.d.opts == nil || v.d.opts.ParseCondition == nil {
		return
	}
	err := v.d.opts.ParseCondition(text)
	if err == nil {
		return
	}
	msg := err.Error()
	n := v.at(path)
	if n == nil {
		v.d.addAt(nil, path, "%s", msg)
		return
	}
	p := Problem{File: v.d.file, Line: n.Line, Col: n.Column, Path: path, Msg: v.scrub(n, msg)}
	_, expanded := v.d.shown[n]
	if m := colRE.FindStringSubmatch(msg); m != nil && !expanded && n.Kind == yaml.ScalarNode &&
		n.Value == text && !strings.Contains(text, "\n") {
		c, _ := strconv.Atoi(m[1])
		switch n.Style {
		case 0:
			p.Col += c - 1
		case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
			p.Col += c
		}
	}
	v.d.probs = append(v.d.probs, p)
}

// template checks one template text.
func (v *validator) template(path, name, text string) {
	var err error
	switch {
	case v.d.opts != nil && v.d.opts.CheckTemplateWith != nil:
		err = v.d.opts.CheckTemplateWith(name, text, v.c.Templates)
	case v.d.opts != nil && v.d.opts.CheckTemplate != nil:
		err = v.d.opts.CheckTemplate(name, text)
	default:
		err = checkTemplateSyntax(name, text)
	}
	if err != nil {
		v.add(path, "%s", err)
	}
}

// definedTemplates counts the templates a text defines (itself included);
// 0 when it does not parse.
func definedTemplates(name, text string) int {
	t := parse.New(name)
	t.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(text, "", "", trees); err != nil {
		return 0
	}
	return len(trees)
}

// checkTemplateSyntax parses a text/template without knowing its
// functions, so only syntax errors show.
func checkTemplateSyntax(name, text string) error {
	t := parse.New(name)
	t.Mode = parse.SkipFuncCheck
	_, err := t.Parse(text, "", "", map[string]*parse.Tree{})
	return err
}
