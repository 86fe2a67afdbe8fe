package config

import (
	"cmp"
	"maps"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Defaults, in one place. A zero field in Config means the default below;
// WithDefaults fills them in.
const (
	// DefaultListen is server.listen.
	DefaultListen = "127.0.0.1:9095"
	// DefaultDataDir is server.data_dir.
	DefaultDataDir = "./klaxon-data"
	// DefaultResolveTimeout is server.resolve_timeout.
	DefaultResolveTimeout = 5 * time.Minute
	// DefaultEvaluationInterval is evaluation_interval.
	DefaultEvaluationInterval = 15 * time.Second
	// DefaultRetention is history.retention.
	DefaultRetention = 168 * time.Hour
	// DefaultMaxResolved is history.max_resolved.
	DefaultMaxResolved = 10000
	// MaxConcurrency bounds channels.*.concurrency: more sends at once to
	// one receiver than this is a storm, not a delivery.
	MaxConcurrency = 128
	// DefaultAttemptTimeout is channels.*.retry.timeout.
	DefaultAttemptTimeout = 10 * time.Second
	// DefaultInitialBackoff is channels.*.retry.initial_backoff.
	DefaultInitialBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff is channels.*.retry.max_backoff.
	DefaultMaxBackoff = time.Minute
	// DefaultMaxAge is channels.*.retry.max_age.
	DefaultMaxAge = time.Hour
	// DefaultJitter is channels.*.retry.jitter.
	DefaultJitter = 0.2
	// DefaultBurst is channels.*.rate_limit.burst.
	DefaultBurst = 1
	// DefaultGroupInterval is routes[*].group_interval.
	DefaultGroupInterval = 5 * time.Minute
	// DefaultRepeatInterval is routes[*].repeat_interval.
	DefaultRepeatInterval = 4 * time.Hour
	// DefaultSeverity is rules[*].severity.
	DefaultSeverity = alert.Medium
	// DefaultNoData is rules[*].no_data.
	DefaultNoData = "keep"
)

// WithDefaults returns a copy of c with every zero field that has a default
// set to it. The copy shares nothing mutable with c except channel Config
// values and the maps and slices inside rules and routes. It is idempotent.
func (c *Config) WithDefaults() *Config {
	out := *c
	out.Server.Listen = cmp.Or(out.Server.Listen, DefaultListen)
	out.Server.DataDir = cmp.Or(out.Server.DataDir, DefaultDataDir)
	out.Server.ResolveTimeout = cmp.Or(out.Server.ResolveTimeout, DefaultResolveTimeout)
	out.EvaluationInterval = cmp.Or(out.EvaluationInterval, DefaultEvaluationInterval)
	out.History.Retention = cmp.Or(out.History.Retention, DefaultRetention)
	out.History.MaxResolved = cmp.Or(out.History.MaxResolved, DefaultMaxResolved)
	out.Templates = maps.Clone(c.Templates)

	if c.Channels != nil {
		out.Channels = make(map[string]*Channel, len(c.Channels))
		for name, ch := range c.Channels {
			if ch == nil {
				continue
			}
			cp := *ch
			cp.Retry = cp.Retry.WithDefaults()
			if ch.RateLimit != nil {
				rl := *ch.RateLimit
				rl.Burst = cmp.Or(rl.Burst, DefaultBurst)
				cp.RateLimit = &rl
			}
			out.Channels[name] = &cp
		}
	}
	out.Routes = make([]*Route, 0, len(c.Routes))
	for _, r := range c.Routes {
		if r == nil {
			continue
		}
		cp := *r
		cp.GroupInterval = cmp.Or(cp.GroupInterval, DefaultGroupInterval)
		cp.RepeatInterval = cmp.Or(cp.RepeatInterval, DefaultRepeatInterval)
		out.Routes = append(out.Routes, &cp)
	}
	out.Rules = make([]*Rule, 0, len(c.Rules))
	for _, r := range c.Rules {
		if r == nil {
			continue
		}
		cp := *r
		cp.Severity = cmp.Or(cp.Severity, DefaultSeverity)
		cp.NoData = cmp.Or(cp.NoData, DefaultNoData)
		out.Rules = append(out.Rules, &cp)
	}
	return &out
}

// WithDefaults returns r with zero fields set to their defaults.
func (r Retry) WithDefaults() Retry {
	r.Timeout = cmp.Or(r.Timeout, DefaultAttemptTimeout)
	r.InitialBackoff = cmp.Or(r.InitialBackoff, DefaultInitialBackoff)
	r.MaxBackoff = cmp.Or(r.MaxBackoff, DefaultMaxBackoff)
	r.MaxAge = cmp.Or(r.MaxAge, DefaultMaxAge)
	r.Jitter = cmp.Or(r.Jitter, DefaultJitter)
	return r
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
