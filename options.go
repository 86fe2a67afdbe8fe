package klaxon

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/metric"
	"github.com/klaxonhq/klaxon/metric/scrape"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
	"github.com/klaxonhq/klaxon/store"
)

// Option configures an Engine.
type Option func(*setup) error

// setup collects everything options say before New builds the engine.
type setup struct {
	cfg         *config.Config
	fromEnv     bool
	getenv      func(string) string
	dataDir     string
	databaseURL secret.String
	st          store.Store
	listen      string
	token       secret.String
	externalURL string
	// advertiseURL: see WithAdvertiseURL.
	advertiseURL string
	// scrapes: see WithScrape.
	scrapes    []scrape.Target
	interval   time.Duration
	rules      []Rule
	channels   []notify.ChannelConfig
	routes     []*lifecycle.Route
	providers  []namedProvider
	logger     *slog.Logger
	now        func() time.Time
	registerer prometheus.Registerer
	gatherer   prometheus.Gatherer
	runtime    bool
	noDefault  bool
	profiling  bool
}

type namedProvider struct {
	name string
	p    metric.Provider
}

// WithConfig takes everything a configuration file says: server settings,
// channels, routes, rules, templates. Later options add to it.
func WithConfig(c *config.Config) Option {
	return func(s *setup) error { s.cfg = c; return nil }
}

// FromEnv adds the channels the MCP_ALERT_* environment variables describe
// (webhook, email, slack, pagerduty) and, when no route is configured, the
// default routes: PagerDuty receives critical and high, the others every
// severity. An incomplete set of variables is an error naming the missing one.
func FromEnv() Option {
	return func(s *setup) error { s.fromEnv = true; return nil }
}

// WithGetenv replaces os.Getenv for FromEnv and ${VAR} expansion (tests).
func WithGetenv(f func(string) string) Option {
	return func(s *setup) error { s.getenv = f; return nil }
}

// WithDataDir keeps the embedded SQLite store (klaxon.db) in dir; default
// ./klaxon-data.
func WithDataDir(dir string) Option {
	return func(s *setup) error { s.dataDir = dir; return nil }
}

// WithDatabaseURL stores state in PostgreSQL instead of SQLite.
func WithDatabaseURL(url string) Option {
	return func(s *setup) error { s.databaseURL = secret.New(url); return nil }
}

// WithStore uses an already open store; the engine does not close it.
func WithStore(st store.Store) Option {
	return func(s *setup) error { s.st = st; return nil }
}

// WithListen serves the HTTP API, /metrics and the dashboard on addr
// (":0" picks a free port; see Engine.Addr). Embedded engines serve nothing
// unless this is set.
func WithListen(addr string) Option {
	return func(s *setup) error { s.listen = addr; return nil }
}

// WithAPIToken requires "Authorization: Bearer TOKEN" on write endpoints.
// Surrounding whitespace (a token read from a file ends in a newline) is
// not part of it; a token of whitespace only is an error.
func WithAPIToken(token string) Option {
	return func(s *setup) error {
		if token != "" && strings.TrimSpace(token) == "" {
			return errors.New("WithAPIToken: the token is blank (only whitespace)")
		}
		s.token = secret.New(strings.TrimSpace(token))
		return nil
	}
}

// WithEvaluationInterval sets how often rules run; default 15s (the
// configuration file's evaluation_interval).
func WithEvaluationInterval(d time.Duration) Option {
	return func(s *setup) error { s.interval = d; return nil }
}

// WithRules adds rules.
func WithRules(rules ...Rule) Option {
	return func(s *setup) error { s.rules = append(s.rules, rules...); return nil }
}

// WithChannel adds a channel implemented in Go (any notify.Channel) with
// default retry policy and rate limit. Routes reach it by name; with no
// route configured, every alert goes to every channel.
func WithChannel(name string, ch notify.Channel) Option {
	return func(s *setup) error {
		s.channels = append(s.channels, notify.ChannelConfig{Name: name, Channel: ch, Type: typeOf(ch)})
		return nil
	}
}

// WithChannelConfig adds a channel with its retry policy and rate limit.
func WithChannelConfig(c notify.ChannelConfig) Option {
	return func(s *setup) error { s.channels = append(s.channels, c); return nil }
}

// WithRoutes adds routes, tried after the configuration file's.
func WithRoutes(routes ...*lifecycle.Route) Option {
	return func(s *setup) error { s.routes = append(s.routes, routes...); return nil }
}

// WithProvider registers a custom metric provider by name (the original
// request's CustomMetricProvider). Metrics the registry does not know are
// asked from providers in registration order.
func WithProvider(name string, p metric.Provider) Option {
	return func(s *setup) error { s.providers = append(s.providers, namedProvider{name, p}); return nil }
}

// WithoutRuntimeRules leaves out the built-in runtime rules (memory, disk,
// goroutines) that the embedded default adds when no rule is configured.
func WithoutRuntimeRules() Option {
	return func(s *setup) error { s.noDefault = true; return nil }
}

// WithLogger sets the logger; default discards (the CLI logs to stderr).
func WithLogger(l *slog.Logger) Option {
	return func(s *setup) error { s.logger = l; return nil }
}

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option {
	return func(s *setup) error { s.now = now; return nil }
}

// WithPrometheus registers klaxon's self-metrics with r and serves g on
// /metrics; default a private registry.
func WithPrometheus(r prometheus.Registerer, g prometheus.Gatherer) Option {
	return func(s *setup) error { s.registerer, s.gatherer = r, g; return nil }
}

// WithExternalURL sets the base URL of the dashboard, used for links in
// notifications.
func WithExternalURL(u string) Option {
	return func(s *setup) error { s.externalURL = u; return nil }
}

func typeOf(ch notify.Channel) string {
	if t, ok := ch.(notify.Typed); ok {
		return t.Type()
	}
	return "custom"
}

// WithAdvertiseURL sets where this replica's API answers the other replicas
// of a set sharing PostgreSQL (followers forward API requests to the
// leader); default http:// + the listen address.
func WithAdvertiseURL(u string) Option {
	return func(s *setup) error { s.advertiseURL = u; return nil }
}

// WithScrape reads Prometheus metrics pages into the metric registry, so
// rules can use their metrics by name and labels (metric/scrape). A target
// without an interval is read every evaluation interval.
func WithScrape(targets ...scrape.Target) Option {
	return func(s *setup) error { s.scrapes = append(s.scrapes, targets...); return nil }
}

// WithProfiling serves Go's runtime profiles at /debug/pprof/ on the API
// listener (behind the API token when one is set).
func WithProfiling() Option {
	return func(s *setup) error { s.profiling = true; return nil }
}
