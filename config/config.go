package config

import (
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/secret"
)

// Config is a whole klaxon configuration, as read from YAML (Load, Parse),
// built from the environment (FromEnv) or both (ApplyEnv). Every field's
// doc gives its default; WithDefaults fills them in, and Load, Parse and
// FromEnv return configurations with defaults filled. The defaults are also
// constants in defaults.go.
type Config struct {
	// File is the file the configuration came from; "" for none.
	File string `yaml:"-"`
	// Server holds the daemon's own settings.
	Server Server `yaml:"server"`
	// EvaluationInterval is how often rules are evaluated; default 15s
	// (DefaultEvaluationInterval).
	EvaluationInterval time.Duration `yaml:"evaluation_interval"`
	// Channels by name. Names match [a-zA-Z0-9_.-]+. Default: none (FromEnv
	// adds a console channel and the MCP_ALERT_* channels).
	Channels map[string]*Channel `yaml:"channels"`
	// Routes are tried in order; the first matching route wins unless it
	// sets continue. Default: none.
	Routes []*Route `yaml:"routes"`
	// Rules are the alerting rules. Default: none in a file; Default and
	// FromEnv carry the built-in runtime rules.
	Rules []*Rule `yaml:"rules"`
	// Templates are named template texts that rules and channels may use.
	Templates map[string]string `yaml:"templates"`
	// History says how long resolved alerts are kept.
	History History `yaml:"history"`
	// Scrape lists Prometheus metrics pages whose metrics rules can use
	// (metric/scrape). Default: none.
	Scrape []*ScrapeTarget `yaml:"scrape"`
}

// ScrapeTarget is one Prometheus metrics page (the text format exporters
// serve) read every Interval.
type ScrapeTarget struct {
	// URL of the page, http:// or https://; required.
	URL string `yaml:"url"`
	// Interval between reads; default evaluation_interval.
	Interval time.Duration `yaml:"interval"`
	// Timeout of one read; default 10s, and at most Interval.
	Timeout time.Duration `yaml:"timeout"`
	// Labels are added to every sample and to up (job, instance, ...);
	// instance defaults to the URL's host:port.
	Labels map[string]string `yaml:"labels"`
	// Metrics, when set, keeps only these metric names; default: all.
	Metrics []string `yaml:"metrics"`
	// SampleLimit fails a read with more samples (up = 0); default 10000.
	SampleLimit int `yaml:"sample_limit"`
	// BearerToken is sent as Authorization: Bearer; a secret.
	BearerToken secret.String `yaml:"bearer_token"`
}

// Server holds the daemon's listen address, storage and API settings.
type Server struct {
	// Listen is the API's address; default "127.0.0.1:9095" (DefaultListen).
	// Listening beyond loopback requires APIToken.
	Listen string `yaml:"listen"`
	// DataDir holds the embedded SQLite database; default "./klaxon-data"
	// (DefaultDataDir). Ignored when DatabaseURL is set.
	DataDir string `yaml:"data_dir"`
	// DatabaseURL selects PostgreSQL ("postgres://..."); default "" (SQLite
	// in DataDir).
	DatabaseURL secret.String `yaml:"database_url"`
	// APIToken, when set, is required as a Bearer token on write endpoints.
	// Default "" (no token; allowed on loopback only).
	APIToken secret.String `yaml:"api_token"`
	// ExternalURL is the URL users reach klaxon at, used in links in
	// notifications; default "" (http:// + Listen).
	ExternalURL string `yaml:"external_url"`
	// AdvertiseURL is where this replica's API answers other replicas of a
	// set sharing PostgreSQL: followers forward API requests to the
	// leader's. Default "" (http:// + Listen, with the machine's host name
	// for an unspecified address such as 0.0.0.0).
	AdvertiseURL string `yaml:"advertise_url"`
	// ResolveTimeout resolves a pushed alert that has no ends_at and is not
	// posted again; default 5m (DefaultResolveTimeout).
	ResolveTimeout time.Duration `yaml:"resolve_timeout"`
}

// History bounds the resolved alerts kept.
type History struct {
	// Retention is how long resolved alerts and their deliveries are kept;
	// default 168h (DefaultRetention).
	Retention time.Duration `yaml:"retention"`
	// MaxResolved caps how many resolved alerts are kept; default 10000
	// (DefaultMaxResolved).
	MaxResolved int `yaml:"max_resolved"`
}

// Channel is one configured destination. The keys common to every channel
// type (type, retry, rate_limit, breaker, concurrency, max_held, disabled) are decoded here; the rest are
// decoded strictly into Config, whose type the channel type registry
// (LoadOptions.ChannelTypes) decides.
type Channel struct {
	// Name is the channel's key in the channels map.
	Name string `yaml:"-"`
	// Type is the channel type ("webhook", "email", "slack", "pagerduty",
	// "console"). Required.
	Type string `yaml:"-"`
	// Config is the pointer that ChannelTypes[Type].NewConfig returned,
	// filled from the channel's other keys; nil when the channel has no
	// other keys and no registry was given, or a map[string]any of the keys
	// when LoadOptions had no registry.
	Config any `yaml:"-"`
	// Pos is where the channel is defined; zero for environment channels.
	Pos Pos `yaml:"-"`
	// Retry is the channel's retry budget (key retry).
	Retry Retry `yaml:"-"`
	// RateLimit, when set, bounds the channel's send rate (key rate_limit).
	// Default nil: no limit.
	RateLimit *RateLimit `yaml:"-"`
	// Breaker tunes the channel's circuit breaker (key breaker).
	Breaker Breaker `yaml:"-"`
	// Concurrency is how many of the channel's sends run at once (key
	// concurrency), at most MaxConcurrency. Default 0: the channel type's
	// own (16 for webhooks, 8 for other types, 1 under a rate limit below
	// 2 per second).
	Concurrency int `yaml:"-"`
	// MaxHeld bounds the channel's notifications held in memory, queued or
	// in flight (key max_held); the rest of a backlog waits in the store.
	// Default 0: notify.DefaultMaxHeld (10,000).
	MaxHeld int `yaml:"-"`
	// Disabled channels are configured but never sent to (key disabled);
	// default false.
	Disabled bool `yaml:"-"`
	// Env names the environment variable a channel came from ("" for a file
	// channel), so errors about it can name that variable.
	Env string `yaml:"-"`
}

// Retry is a channel's retry budget and backoff. Its fields mirror
// notify.RetryPolicy in name, type and order, so notify.RetryPolicy(r)
// converts it.
type Retry struct {
	// Timeout bounds one attempt; default 10s (DefaultAttemptTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// InitialBackoff is the wait after the first failure; default 500ms
	// (DefaultInitialBackoff). It doubles per attempt.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	// MaxBackoff caps the backoff; default 1m (DefaultMaxBackoff).
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// MaxAge gives up (and fails over) once a notification is this old;
	// default 1h (DefaultMaxAge).
	MaxAge time.Duration `yaml:"max_age"`
	// MaxAttempts gives up after this many attempts; default 0: unlimited
	// within MaxAge.
	MaxAttempts int `yaml:"max_attempts"`
	// Jitter spreads each backoff by +- this fraction; default 0.2
	// (DefaultJitter).
	Jitter float64 `yaml:"jitter"`
}

// RateLimit is a token bucket for one channel.
type RateLimit struct {
	// PerSecond is the sustained rate; required, > 0.
	PerSecond float64 `yaml:"per_second"`
	// Burst is the bucket size; default 1 (DefaultBurst).
	Burst int `yaml:"burst"`
}

// Breaker sets when a channel's circuit opens and how long it stays open.
// Zero fields take the defaults.
type Breaker struct {
	// Failures opens the circuit after this many retryable failures in a
	// row; default 10. (It also opens when at least half of 20 or more
	// calls within a minute fail.)
	Failures int `yaml:"failures"`
	// OpenFor is how long it stays open before one trial call; default 10s.
	OpenFor time.Duration `yaml:"open_for"`
}

// Route says which alerts go to which channels.
type Route struct {
	// Match selects the alerts; the zero Match selects every alert.
	Match Match `yaml:"match"`
	// Notify names the channels told about each notifying transition.
	Notify []string `yaml:"notify"`
	// Failover channels are tried in order when a Notify channel fails
	// permanently or its circuit is open. Default: none.
	Failover []string `yaml:"failover"`
	// Escalate steps notify more channels while an active alert stays
	// unacknowledged. Default: none.
	Escalate []Escalation `yaml:"escalate"`
	// GroupBy label names: alerts with equal values go out together.
	// Default: none (no grouping).
	GroupBy []string `yaml:"group_by"`
	// GroupWait holds a group's first notification to gather more alerts;
	// default 0 (send at once).
	GroupWait time.Duration `yaml:"group_wait"`
	// GroupInterval is the least time between two notifications of one
	// group; default 5m (DefaultGroupInterval).
	GroupInterval time.Duration `yaml:"group_interval"`
	// RepeatInterval renotifies an unacknowledged active alert; default 4h
	// (DefaultRepeatInterval).
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	// Continue lets later routes match too; default false (the first
	// matching route wins).
	Continue bool `yaml:"continue"`
	// Pos is where the route is defined.
	Pos Pos `yaml:"-"`
}

// Match selects alerts by severity and labels; all given parts must match.
type Match struct {
	// Severity accepts one severity ("critical"), a list, or a comparison
	// (">= high"). Default: every severity.
	Severity SeverityMatch `yaml:"severity"`
	// Labels must have exactly these values.
	Labels map[string]string `yaml:"labels"`
	// LabelMatchers are "name=value", "name!=value", "name=~regex" or
	// "name!~regex" strings; regular expressions are anchored.
	LabelMatchers []string `yaml:"label_matchers"`
}

// Escalation is one escalation step of a route.
type Escalation struct {
	// After is how long after activation an unacknowledged alert escalates;
	// required, > 0.
	After time.Duration `yaml:"after"`
	// Notify names the channels told at this step; required.
	Notify []string `yaml:"notify"`
	// Pos is where the step is defined.
	Pos Pos `yaml:"-"`
}

// Rule is an alerting rule. It has exactly one of Condition or the
// structured form (Metric, Operator, Threshold).
type Rule struct {
	// ID identifies the rule: required, unique, [a-zA-Z0-9_.-]+.
	ID string `yaml:"id"`
	// Name is the display name; default "" (the ID is shown).
	Name string `yaml:"name"`
	// Condition is the rule's condition ("error_rate > 0.05",
	// "avg(response_time[5m]) > 500").
	Condition string `yaml:"condition"`
	// Metric, Operator and Threshold are the structured form of a threshold
	// condition (metric: error_rate, operator: ">", threshold: 0.05).
	Metric string `yaml:"metric"`
	// Operator is one of > >= < <= == != (structured form).
	Operator string `yaml:"operator"`
	// Threshold is the value compared against (structured form).
	Threshold *float64 `yaml:"threshold"`
	// For is how long the condition must hold before the alert fires;
	// default 0 (fire at once).
	For time.Duration `yaml:"for"`
	// Severity of the rule's alerts; default medium (DefaultSeverity).
	Severity alert.Severity `yaml:"severity"`
	// Labels are added to every alert of the rule.
	Labels map[string]string `yaml:"labels"`
	// Summary is a one-line template.
	Summary string `yaml:"summary"`
	// Description is a longer template.
	Description string `yaml:"description"`
	// Annotations are further templates by name.
	Annotations map[string]string `yaml:"annotations"`
	// Recovery, when set, is the condition that resolves a firing alert;
	// default "" (resolve when Condition is false).
	Recovery string `yaml:"recovery"`
	// Hold keeps a firing alert until its condition has been clear this
	// long; default 0.
	Hold time.Duration `yaml:"hold"`
	// NoData is keep, resolve or alert; default "keep" (DefaultNoData).
	NoData string `yaml:"no_data"`
	// Channels, when set, are notified instead of the routes.
	Channels []string `yaml:"channels"`
	// Disabled rules are not evaluated; default false.
	Disabled bool `yaml:"disabled"`
	// Pos is where the rule is defined.
	Pos Pos `yaml:"-"`
}

// ConditionText returns Condition, or the structured form written as a
// condition ("error_rate > 0.05").
func (r *Rule) ConditionText() string {
	if r.Condition != "" || r.Threshold == nil {
		return r.Condition
	}
	return r.Metric + " " + r.Operator + " " + formatFloat(*r.Threshold)
}
