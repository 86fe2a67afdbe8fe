package pagerduty

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/secret"
)

// DefaultEventsURL is PagerDuty's Events API v2 enqueue endpoint (US service
// region). Accounts in the EU service region use EUEventsURL.
const DefaultEventsURL = "https://events.pagerduty.com/v2/enqueue"

// EUEventsURL is the enqueue endpoint of PagerDuty's EU service region.
const EUEventsURL = "https://events.eu.pagerduty.com/v2/enqueue"

// maxRoutingKey bounds the routing key's length; PagerDuty's keys have 32
// characters.
const maxRoutingKey = 128

// DefaultTimeout bounds one HTTP request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// PagerDuty severities, the only values the Events API accepts in
// payload.severity.
const (
	SeverityCritical = "critical"
	SeverityError    = "error"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// DefaultSeverityMap returns the seed mapping from klaxon severities to
// PagerDuty severities: critical and high page as critical, medium is a
// warning, low and info are info. Each call returns a new map.
func DefaultSeverityMap() map[alert.Severity]string {
	return map[alert.Severity]string{
		alert.Critical: SeverityCritical,
		alert.High:     SeverityCritical,
		alert.Medium:   SeverityWarning,
		alert.Low:      SeverityInfo,
		alert.Info:     SeverityInfo,
	}
}

// Config is a PagerDuty channel's configuration: the `channels.NAME` keys of a
// channel of type pagerduty. The zero value of every optional field means the
// default documented on it. New only reads a Config, never changes it.
type Config struct {
	// RoutingKey is the Integration Key of an "Events API v2" integration on
	// a PagerDuty service (or a global ruleset key); required. It is a secret:
	// it never appears in errors, logs or printed configuration.
	RoutingKey secret.String `yaml:"routing_key"`
	// EventsURL is the full enqueue URL; default DefaultEventsURL. Set it to
	// EUEventsURL for the EU service region, or to a test server.
	EventsURL string `yaml:"events_url"`
	// SeverityMap overrides the mapping from klaxon severities (critical,
	// high, medium, low, info) to PagerDuty severities (critical, error,
	// warning, info). Severities it leaves out keep DefaultSeverityMap's
	// value. Example: {high: error, low: warning}.
	SeverityMap map[string]string `yaml:"severity_map"`
	// Source is payload.source, the affected system. Empty: the alert's
	// metadata "server" or "source", else this host's name.
	Source string `yaml:"source"`
	// Component is payload.component ("mysql", "eth0"). Empty: the alert's
	// "component" label, if any.
	Component string `yaml:"component"`
	// Group is payload.group ("prod-datapipe"). Empty: the alert's "group"
	// label, if any.
	Group string `yaml:"group"`
	// Class is payload.class ("cpu load"). Empty: the alert's "class" label,
	// if any.
	Class string `yaml:"class"`
	// Timeout bounds each HTTP request (connect, send, answer); default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// WithDefaults returns c with zero optional fields set to their defaults. It
// does not fill SeverityMap: New merges it over DefaultSeverityMap.
func (c Config) WithDefaults() Config {
	if c.EventsURL == "" {
		c.EventsURL = DefaultEventsURL
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate checks the configuration. Each error's message starts with the
// YAML key it is about ("severity_map: ..."); several problems are joined
// with errors.Join. Messages never contain the routing key.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf(key+": "+format, args...))
	}
	switch key := c.RoutingKey.Reveal(); {
	case key == "":
		add("routing_key", "is required")
	case len(key) > maxRoutingKey:
		add("routing_key", "must be at most %d characters (PagerDuty integration keys have 32)", maxRoutingKey)
	case strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		add("routing_key", "must not contain spaces or control characters")
	}
	if c.EventsURL != "" {
		if err := checkURL(c.EventsURL); err != nil {
			add("events_url", "%s", err.Error())
		}
	}
	if _, serrs := severityMap(c.SeverityMap); len(serrs) > 0 {
		for _, err := range serrs {
			add("severity_map", "%s", err.Error())
		}
	}
	if c.Timeout < 0 {
		add("timeout", "must not be negative")
	}
	return errors.Join(errs...)
}

// severityMap merges m over DefaultSeverityMap, checking keys (klaxon
// severities) and values (PagerDuty severities). Both are case-insensitive.
func severityMap(m map[string]string) (map[alert.Severity]string, []error) {
	out := DefaultSeverityMap()
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(m)) {
		sev, err := alert.ParseSeverity(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("unknown klaxon severity %q (want critical, high, medium, low or info)", k))
			continue
		}
		v := strings.ToLower(strings.TrimSpace(m[k]))
		switch v {
		case SeverityCritical, SeverityError, SeverityWarning, SeverityInfo:
			out[sev] = v
		default:
			errs = append(errs, fmt.Errorf("%s: %q is not a PagerDuty severity (want critical, error, warning or info)", k, m[k]))
		}
	}
	return out, errs
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must be an http or https URL")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	if u.User != nil {
		return errors.New("must not contain user info")
	}
	if u.Path == "" || u.Path == "/" {
		return errors.New("must be the full enqueue URL, such as https://events.pagerduty.com/v2/enqueue, not just the host")
	}
	return nil
}
