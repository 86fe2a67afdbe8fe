package config

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/klaxonhq/klaxon/alert"
	"gopkg.in/yaml.v3"
)

// Environment variables that describe channels (DESIGN.md). Each group
// makes one channel named after its type.
const (
	// EnvWebhookURL makes the "webhook" channel (key url).
	EnvWebhookURL = "MCP_ALERT_WEBHOOK_URL"
	// EnvWebhookSecret is the webhook's signing secret (key secret,
	// "whsec_..."); optional.
	EnvWebhookSecret = "MCP_ALERT_WEBHOOK_SECRET"
	// EnvEmailSMTPHost makes the "email" channel (key smtp_host); it needs
	// EnvEmailFrom and EnvEmailTo.
	EnvEmailSMTPHost = "MCP_ALERT_EMAIL_SMTP_HOST"
	// EnvEmailSMTPPort is the SMTP port (key smtp_port, 1-65535); optional.
	EnvEmailSMTPPort = "MCP_ALERT_EMAIL_SMTP_PORT"
	// EnvEmailFrom is the sender address (key from).
	EnvEmailFrom = "MCP_ALERT_EMAIL_FROM"
	// EnvEmailTo lists recipients, comma separated (key to).
	EnvEmailTo = "MCP_ALERT_EMAIL_TO"
	// EnvEmailUsername is the SMTP user (key username); needs
	// EnvEmailPassword.
	EnvEmailUsername = "MCP_ALERT_EMAIL_USERNAME"
	// EnvEmailPassword is the SMTP password (key password); needs
	// EnvEmailUsername.
	EnvEmailPassword = "MCP_ALERT_EMAIL_PASSWORD"
	// EnvSlackToken makes the "slack" channel with a bot token (key token);
	// it needs EnvSlackChannel and excludes EnvSlackWebhookURL.
	EnvSlackToken = "MCP_ALERT_SLACK_TOKEN"
	// EnvSlackChannel is the Slack channel to post to (key channel).
	EnvSlackChannel = "MCP_ALERT_SLACK_CHANNEL"
	// EnvSlackWebhookURL makes the "slack" channel with an incoming webhook
	// (key webhook_url).
	EnvSlackWebhookURL = "MCP_ALERT_SLACK_WEBHOOK_URL"
	// EnvPagerDutyRoutingKey makes the "pagerduty" channel (key
	// routing_key).
	EnvPagerDutyRoutingKey = "MCP_ALERT_PAGERDUTY_ROUTING_KEY"
)

// envSpec is one channel described by environment variables.
type envSpec struct {
	name  string // channel name, also its type
	first string // the variable that makes the channel
	pairs []envPair
}

type envPair struct {
	key, env string
	node     *yaml.Node
}

func strPair(key, env, v string) envPair {
	return envPair{key: key, env: env, node: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}}
}

// readEnv turns the MCP_ALERT_* variables into channel specs, skipping the
// channels skip names, and reports missing or contradictory variables.
func readEnv(getenv func(string) string, skip func(string) bool) ([]envSpec, Problems) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var specs []envSpec
	var probs Problems
	bad := func(path, format string, args ...any) {
		probs = append(probs, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	requires := func(needed, because string) {
		bad("", "%s is required when %s is set", needed, because)
	}

	if !skip("webhook") {
		url, sec := get(EnvWebhookURL), getenv(EnvWebhookSecret)
		switch {
		case url != "":
			s := envSpec{name: "webhook", first: EnvWebhookURL, pairs: []envPair{strPair("url", EnvWebhookURL, url)}}
			if strings.TrimSpace(sec) != "" {
				s.pairs = append(s.pairs, strPair("secret", EnvWebhookSecret, strings.TrimSpace(sec)))
			}
			specs = append(specs, s)
		case strings.TrimSpace(sec) != "":
			requires(EnvWebhookURL, EnvWebhookSecret)
		}
	}

	if !skip("email") {
		host, port, from, to := get(EnvEmailSMTPHost), get(EnvEmailSMTPPort), get(EnvEmailFrom), get(EnvEmailTo)
		user, pass := get(EnvEmailUsername), getenv(EnvEmailPassword)
		if host == "" {
			for _, v := range []string{EnvEmailFrom, EnvEmailTo, EnvEmailSMTPPort, EnvEmailUsername, EnvEmailPassword} {
				if get(v) != "" {
					requires(EnvEmailSMTPHost, v)
					break
				}
			}
		} else {
			n := len(probs)
			s := envSpec{name: "email", first: EnvEmailSMTPHost, pairs: []envPair{strPair("smtp_host", EnvEmailSMTPHost, host)}}
			if port != "" {
				if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
					bad(EnvEmailSMTPPort, "invalid port %q (want 1-65535)", port)
				} else {
					s.pairs = append(s.pairs, envPair{key: "smtp_port", env: EnvEmailSMTPPort,
						node: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(p)}})
				}
			}
			if from == "" {
				requires(EnvEmailFrom, EnvEmailSMTPHost)
			} else {
				s.pairs = append(s.pairs, strPair("from", EnvEmailFrom, from))
			}
			var rcpts []*yaml.Node
			for a := range strings.SplitSeq(to, ",") {
				if a = strings.TrimSpace(a); a != "" {
					rcpts = append(rcpts, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: a})
				}
			}
			switch {
			case to == "":
				requires(EnvEmailTo, EnvEmailSMTPHost)
			case len(rcpts) == 0:
				bad(EnvEmailTo, "no recipient addresses (want a comma-separated list)")
			default:
				s.pairs = append(s.pairs, envPair{key: "to", env: EnvEmailTo,
					node: &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: rcpts}})
			}
			switch {
			case user != "" && strings.TrimSpace(pass) == "":
				requires(EnvEmailPassword, EnvEmailUsername)
			case user == "" && strings.TrimSpace(pass) != "":
				requires(EnvEmailUsername, EnvEmailPassword)
			case user != "":
				s.pairs = append(s.pairs, strPair("username", EnvEmailUsername, user), strPair("password", EnvEmailPassword, pass))
			}
			if len(probs) == n {
				specs = append(specs, s)
			}
		}
	}

	if !skip("slack") {
		token, channel, hook := get(EnvSlackToken), get(EnvSlackChannel), get(EnvSlackWebhookURL)
		switch {
		case token != "" && hook != "":
			bad("", "set %s or %s, not both", EnvSlackToken, EnvSlackWebhookURL)
		case token != "" && channel == "":
			requires(EnvSlackChannel, EnvSlackToken)
		case token != "":
			specs = append(specs, envSpec{name: "slack", first: EnvSlackToken, pairs: []envPair{
				strPair("token", EnvSlackToken, token), strPair("channel", EnvSlackChannel, channel)}})
		case hook != "" && channel != "":
			bad("", "%s works only with %s (an incoming webhook posts to the channel it was made for); unset one of %s and %s",
				EnvSlackChannel, EnvSlackToken, EnvSlackChannel, EnvSlackWebhookURL)
		case hook != "":
			specs = append(specs, envSpec{name: "slack", first: EnvSlackWebhookURL, pairs: []envPair{
				strPair("webhook_url", EnvSlackWebhookURL, hook)}})
		case channel != "":
			requires(EnvSlackToken, EnvSlackChannel)
		}
	}

	if !skip("pagerduty") {
		if key := get(EnvPagerDutyRoutingKey); key != "" {
			specs = append(specs, envSpec{name: "pagerduty", first: EnvPagerDutyRoutingKey, pairs: []envPair{
				strPair("routing_key", EnvPagerDutyRoutingKey, key)}})
		}
	}
	return specs, probs
}

// envChannel decodes one environment channel through the same strict path
// as a file's channels. Problems name the variable instead of a position;
// values never show (they may be secrets).
func (d *decoder) envChannel(s envSpec) *Channel {
	content := []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "type"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.name},
	}
	byKey := map[string]string{}
	for _, p := range s.pairs {
		content = append(content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p.key}, p.node)
		d.shown[p.node] = "$" + p.env
		for _, c := range p.node.Content {
			d.shown[c] = "$" + p.env
		}
		byKey[p.key] = p.env
	}
	path := join("channels", s.name)
	before := len(d.probs)
	ch := &Channel{}
	d.decode(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: content}, reflect.ValueOf(ch).Elem(), path)
	for i := before; i < len(d.probs); i++ {
		p := &d.probs[i]
		key, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(p.Path, path), "."), ".")
		key, _, _ = strings.Cut(key, "[")
		p.File, p.Line, p.Col = "", 0, 0
		if env, ok := byKey[key]; ok {
			p.Path = env
		} else {
			p.Path = cmp.Or(s.first, path)
		}
	}
	ch.Name, ch.Env, ch.Pos = s.name, s.first, Pos{}
	return ch
}

// FromEnv builds the configuration `klaxon serve` runs without a file: the
// embedded default (Default), a console channel, one channel per group of
// MCP_ALERT_* variables (webhook, email, slack, pagerduty; see the Env
// constants), and DefaultRoutes over them. getenv nil means opts.Getenv,
// then os.Getenv. Missing or contradictory variables give Problems that
// name the variables.
func FromEnv(getenv func(string) string, opts *LoadOptions) (*Config, error) {
	if getenv == nil {
		getenv = opts.getenv()
	}
	cfg, err := defaultConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := cfg.addEnvChannels(getenv, opts); err != nil {
		return nil, err
	}
	cfg.Routes = DefaultRoutes(cfg.Channels)
	return cfg.WithDefaults(), nil
}

// ApplyEnv adds to c a channel for each group of MCP_ALERT_* variables
// whose channel name (webhook, email, slack, pagerduty) c does not define
// yet, and the DefaultRoutes when c has no routes. Variables of channels c
// already defines are ignored. getenv nil means opts.Getenv, then
// os.Getenv. On error c is unchanged.
func (c *Config) ApplyEnv(getenv func(string) string, opts *LoadOptions) error {
	if getenv == nil {
		getenv = opts.getenv()
	}
	next := *c
	next.Channels = maps.Clone(c.Channels)
	if err := next.addEnvChannels(getenv, opts); err != nil {
		return err
	}
	if len(next.Routes) == 0 {
		next.Routes = DefaultRoutes(next.Channels)
	}
	*c = *next.WithDefaults()
	return nil
}

func (c *Config) addEnvChannels(getenv func(string) string, opts *LoadOptions) error {
	specs, probs := readEnv(getenv, func(name string) bool { return hasKey(c.Channels, name) })
	d := newDecoder("", opts)
	d.expand = false
	d.probs = probs
	var chans []*Channel
	for _, s := range specs {
		chans = append(chans, d.envChannel(s))
	}
	if len(d.probs) > 0 {
		return d.probs.sorted()
	}
	if c.Channels == nil && len(chans) > 0 {
		c.Channels = map[string]*Channel{}
	}
	for _, ch := range chans {
		c.Channels[ch.Name] = ch
	}
	return nil
}

// DefaultRoutes are the routes used when none are configured: channels of
// type pagerduty get critical and high alerts (and the next route still
// matches), every other channel gets every alert.
func DefaultRoutes(channels map[string]*Channel) []*Route {
	var pd, others []string
	for _, name := range slices.Sorted(maps.Keys(channels)) {
		if channels[name].Type == "pagerduty" {
			pd = append(pd, name)
		} else {
			others = append(others, name)
		}
	}
	var routes []*Route
	if len(pd) > 0 {
		routes = append(routes, &Route{
			Match:    Match{Severity: SeverityMatch{alert.Critical, alert.High}},
			Notify:   pd,
			Continue: true,
		})
	}
	if len(others) > 0 {
		routes = append(routes, &Route{Notify: others})
	}
	return routes
}
