package klaxon

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/metric/scrape"
	"github.com/klaxonhq/klaxon/rule"
	"github.com/klaxonhq/klaxon/secret"
	ktemplate "github.com/klaxonhq/klaxon/template"
)

// LoadOptions returns the options config.Load needs to check a klaxon
// file completely: the channel types, the condition parser and the
// template checker.
func LoadOptions(getenv func(string) string) *config.LoadOptions {
	return &config.LoadOptions{
		ChannelTypes:      ChannelTypes(),
		Getenv:            getenv,
		ParseCondition:    func(s string) error { _, err := rule.Parse(s); return err },
		CheckTemplate:     ktemplate.Check,
		CheckTemplateWith: ktemplate.CheckWith,
	}
}

// LoadConfig reads and checks a configuration file.
func LoadConfig(path string, getenv func(string) string) (*config.Config, error) {
	return config.Load(path, LoadOptions(getenv))
}

func (s *setup) history() config.History {
	if s.cfg != nil {
		return s.cfg.History
	}
	return config.History{}
}

func (s *setup) resolveTimeout() time.Duration {
	if s.cfg != nil {
		return s.cfg.Server.ResolveTimeout
	}
	return 0
}

// applyConfig folds the configuration (file and/or environment) into the
// setup. Options given in Go win over file values.
func (s *setup) applyConfig() error {
	if s.fromEnv {
		if s.cfg == nil {
			c, err := config.FromEnv(s.getenv, LoadOptions(s.getenv))
			if err != nil {
				return err
			}
			s.cfg = c
		} else if err := s.cfg.ApplyEnv(s.getenv, LoadOptions(s.getenv)); err != nil {
			return err
		}
	}
	c := s.cfg
	if c == nil {
		return nil
	}
	c = c.WithDefaults()
	s.cfg = c
	s.dataDir = or(s.dataDir, c.Server.DataDir)
	if s.databaseURL.IsZero() {
		s.databaseURL = c.Server.DatabaseURL
	}
	if s.token.IsZero() {
		s.token = secret.New(strings.TrimSpace(c.Server.APIToken.Reveal()))
	}
	s.externalURL = or(s.externalURL, c.Server.ExternalURL)
	s.advertiseURL = or(s.advertiseURL, c.Server.AdvertiseURL)
	if s.interval == 0 {
		s.interval = c.EvaluationInterval
	}
	log := s.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	names := make([]string, 0, len(c.Channels))
	for name := range c.Channels {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ch := c.Channels[name]
		if ch.Name == "" {
			ch.Name = name
		}
		cc, err := buildChannel(ch, log)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.channels = append(s.channels, cc)
	}
	var routes []*lifecycle.Route
	for i, r := range c.Routes {
		lr, err := convertRoute(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("routes[%d]: %w", i, err))
			continue
		}
		routes = append(routes, lr)
	}
	s.routes = append(routes, s.routes...)
	var rules []Rule
	for _, r := range c.Rules {
		if r.Disabled {
			continue
		}
		rules = append(rules, Rule{
			ID: r.ID, Name: r.Name, Condition: r.ConditionText(), For: r.For, Severity: r.Severity,
			Labels: r.Labels, Summary: r.Summary, Description: r.Description, Annotations: r.Annotations,
			Recovery: r.Recovery, Hold: r.Hold, NoData: r.NoData, Channels: r.Channels,
		})
	}
	s.rules = overrideRules(rules, s.rules)
	var scrapes []scrape.Target
	for _, t := range c.Scrape {
		scrapes = append(scrapes, scrape.Target{
			URL: t.URL, Interval: t.Interval, Timeout: t.Timeout, Labels: alert.Labels(t.Labels),
			Metrics: t.Metrics, SampleLimit: t.SampleLimit, BearerToken: t.BearerToken,
		})
	}
	s.scrapes = append(scrapes, s.scrapes...)
	return errors.Join(errs...)
}

// overrideRules puts the rules given in Go after the file's, a Go rule
// replacing the file rule with the same id (Go options win over the file,
// so mcp.WithRules can redefine the default high_error_rate).
func overrideRules(file, code []Rule) []Rule {
	byID := map[string]int{}
	for i, r := range file {
		byID[r.ID] = i
	}
	out := file
	for _, r := range code {
		if i, ok := byID[r.ID]; ok && r.ID != "" {
			out[i] = r
			delete(byID, r.ID)
			continue
		}
		out = append(out, r)
	}
	return out
}

func convertRoute(r *config.Route) (*lifecycle.Route, error) {
	lr := &lifecycle.Route{
		Severities: []alert.Severity(r.Match.Severity), Notify: r.Notify, Failover: r.Failover,
		GroupBy: r.GroupBy, GroupWait: r.GroupWait, GroupInterval: r.GroupInterval,
		RepeatInterval: r.RepeatInterval, Continue: r.Continue,
	}
	for _, e := range r.Escalate {
		lr.Escalate = append(lr.Escalate, lifecycle.Escalation{After: e.After, Notify: e.Notify})
	}
	ms, err := r.Match.Matchers()
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	lr.Matchers = ms
	return lr, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
