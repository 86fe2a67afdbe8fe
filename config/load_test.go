package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/stretchr/testify/require"
)

// minimalYAML is DESIGN.md's minimal file, verbatim.
const minimalYAML = `server:
  listen: 127.0.0.1:9095
  data_dir: ./klaxon-data
evaluation_interval: 1s
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
rules:
  - id: high_error_rate
    condition: error_rate > 0.05
    for: 0s
    severity: critical
    summary: "Error rate is {{ .Value }}"
routes:
  - notify: [ops]
`

// problemsOf parses src and returns its problems (failing if it parsed).
func problemsOf(t *testing.T, src string, opts *LoadOptions) Problems {
	t.Helper()
	cfg, err := Parse("klaxon.yml", []byte(src), opts)
	require.Error(t, err)
	require.Nil(t, cfg)
	var probs Problems
	require.True(t, errors.As(err, &probs), "error %T is not Problems", err)
	return probs
}

func TestParse_Minimal(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("klaxon.yml", []byte(minimalYAML), fakeOpts(nil))
	require.NoError(t, err)

	require.Equal(t, "klaxon.yml", cfg.File)
	require.Equal(t, "127.0.0.1:9095", cfg.Server.Listen)
	require.Equal(t, "./klaxon-data", cfg.Server.DataDir)
	require.Equal(t, time.Second, cfg.EvaluationInterval)
	require.Equal(t, DefaultResolveTimeout, cfg.Server.ResolveTimeout)
	require.Equal(t, DefaultRetention, cfg.History.Retention)
	require.Equal(t, DefaultMaxResolved, cfg.History.MaxResolved)

	require.Len(t, cfg.Channels, 1)
	ops := cfg.Channels["ops"]
	require.Equal(t, "ops", ops.Name)
	require.Equal(t, "webhook", ops.Type)
	require.Equal(t, Pos{Line: 7, Col: 5}, ops.Pos)
	require.Equal(t, &fakeWebhook{URL: "http://127.0.0.1:9099/hook"}, ops.Config)
	require.Equal(t, Retry{Timeout: 10 * time.Second, InitialBackoff: 500 * time.Millisecond,
		MaxBackoff: time.Minute, MaxAge: time.Hour, Jitter: 0.2}, ops.Retry)
	require.Nil(t, ops.RateLimit)

	require.Len(t, cfg.Rules, 1)
	r := cfg.Rules[0]
	require.Equal(t, "high_error_rate", r.ID)
	require.Equal(t, "error_rate > 0.05", r.Condition)
	require.Equal(t, "error_rate > 0.05", r.ConditionText())
	require.Zero(t, r.For)
	require.Equal(t, alert.Critical, r.Severity)
	require.Equal(t, "Error rate is {{ .Value }}", r.Summary)
	require.Equal(t, "keep", r.NoData)
	require.Equal(t, Pos{Line: 10, Col: 5}, r.Pos)

	require.Len(t, cfg.Routes, 1)
	rt := cfg.Routes[0]
	require.Equal(t, []string{"ops"}, rt.Notify)
	require.Empty(t, rt.Match.Severity)
	require.False(t, rt.Continue)
	require.Equal(t, DefaultRepeatInterval, rt.RepeatInterval)
	require.Equal(t, DefaultGroupInterval, rt.GroupInterval)
	require.Zero(t, rt.GroupWait)
	require.Equal(t, Pos{Line: 16, Col: 5}, rt.Pos)
}

func TestParse_MinimalWithoutRegistry(t *testing.T) {
	t.Parallel()
	// Without a registry the channel's own keys stay a map.
	cfg, err := Parse("klaxon.yml", []byte(minimalYAML), nil)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"url": "http://127.0.0.1:9099/hook"}, cfg.Channels["ops"].Config)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "klaxon.yml")
	require.NoError(t, os.WriteFile(path, []byte(minimalYAML+"bogus: 1\n"), 0o600))
	_, err := Load(path, fakeOpts(nil))
	require.EqualError(t, err, path+`:17:1: bogus: unknown key "bogus" (known: channels, evaluation_interval, history, routes, rules, scrape, server, templates)`)

	_, err = Load(filepath.Join(dir, "missing.yml"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestParse_ThreeMistakes(t *testing.T) {
	t.Parallel()
	src := `server:
  listen: 127.0.0.1:9095
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
    methdo: POST
rules:
  - id: high_error_rate
    condition: error_rate > 0.05
    for: 5 minutes
    severity: critical
routes:
  - notify: [ops, pager]
`
	probs := problemsOf(t, src, fakeOpts(nil))
	require.Equal(t, Problems{
		{File: "klaxon.yml", Line: 7, Col: 5, Path: "channels.ops.methdo", Msg: `unknown key "methdo" (did you mean method?)`},
		{File: "klaxon.yml", Line: 11, Col: 10, Path: "rules[0].for", Msg: `invalid duration "5 minutes" (use 30s, 5m, 1h)`},
		{File: "klaxon.yml", Line: 14, Col: 19, Path: "routes[0].notify[1]", Msg: `unknown channel "pager" (defined: ops)`},
	}, probs)
	require.Equal(t, `klaxon.yml:7:5: channels.ops.methdo: unknown key "methdo" (did you mean method?)
klaxon.yml:11:10: rules[0].for: invalid duration "5 minutes" (use 30s, 5m, 1h)
klaxon.yml:14:19: routes[0].notify[1]: unknown channel "pager" (defined: ops)`, probs.Error())
}

func TestParse_Catches(t *testing.T) {
	t.Parallel()
	// Each row breaks the minimal file in one way; want is the one
	// problem, as check-config prints it.
	tests := []struct {
		name string
		old  string
		new  string
		want string
	}{
		// An unknown top-level key.
		{"unknown key", "evaluation_interval: 1s", "evaluation_intervall: 1s",
			`klaxon.yml:4:1: evaluation_intervall: unknown key "evaluation_intervall" (did you mean evaluation_interval?)`},
		// An unknown key inside a channel type's own keys.
		{"unknown channel key", "    url: http", "    ulr: http",
			`klaxon.yml:8:5: channels.ops.ulr: unknown key "ulr" (did you mean url?)`},
		// A duration in words.
		{"bad duration", "for: 0s", "for: 5 minutes",
			`klaxon.yml:12:10: rules[0].for: invalid duration "5 minutes" (use 30s, 5m, 1h)`},
		// A negative duration.
		{"negative duration", "for: 0s", "for: -5m",
			`klaxon.yml:12:10: rules[0].for: duration "-5m" must not be negative`},
		// A route naming a channel that does not exist.
		{"missing route channel", "notify: [ops]", "notify: [opps]",
			`klaxon.yml:16:14: routes[0].notify[0]: unknown channel "opps" (did you mean ops?)`},
		// Escalation naming a channel that does not exist.
		{"missing escalate channel", "notify: [ops]", "notify: [ops]\n    escalate:\n      - after: 10m\n        notify: [oncall]",
			`klaxon.yml:19:18: routes[0].escalate[0].notify[0]: unknown channel "oncall" (defined: ops)`},
		// Failover naming a channel that does not exist.
		{"missing failover channel", "notify: [ops]", "notify: [ops]\n    failover: [backup]",
			`klaxon.yml:17:16: routes[0].failover[0]: unknown channel "backup" (defined: ops)`},
		// A condition the parser rejects: the column points at the operator.
		{"bad condition", "error_rate > 0.05", "error_rate >> 0.05",
			`klaxon.yml:11:27: rules[0].condition: col 12: unknown operator ">>"`},
		// A template that does not parse.
		{"template syntax", "{{ .Value }}", "{{ .Value }",
			`klaxon.yml:14:14: rules[0].summary: template: high_error_rate.summary:1: unexpected "}" in operand`},
		// A template that parses but fails to render.
		{"template render", "{{ .Value }}", "{{ .Valeu }}",
			`klaxon.yml:14:14: rules[0].summary: template: high_error_rate.summary:1:17: executing "high_error_rate.summary" at <.Valeu>: can't evaluate field Valeu in type template.Data`},
		// A severity that does not exist.
		{"bad severity", "severity: critical", "severity: urgent",
			`klaxon.yml:13:15: rules[0].severity: unknown severity "urgent" (want critical, high, medium, low or info)`},
		// A value of the wrong type.
		{"wrong type", "    type: webhook", "    type: webhook\n    timeout: [1]",
			`klaxon.yml:8:14: channels.ops.timeout: expected a duration (30s, 5m, 1h), got a list`},
		// A channel type nobody registered.
		{"unknown type", "type: webhook", "type: webhok",
			`klaxon.yml:7:11: channels.ops.type: unknown channel type "webhok" (did you mean webhook?); known types: console, email, pagerduty, slack, webhook`},
		// A channel without a type.
		{"missing type", "    type: webhook\n", "",
			`klaxon.yml:7:5: channels.ops.type: required (one of console, email, pagerduty, slack, webhook)`},
		// The channel type's Validate blames a key.
		{"field error", "http://127.0.0.1:9099/hook", "ftp://x",
			`klaxon.yml:8:10: channels.ops.url: must be an http(s) URL`},
		// Listening beyond loopback without a token.
		{"listen without token", "listen: 127.0.0.1:9095", "listen: 0.0.0.0:9095",
			`klaxon.yml:2:11: server.api_token: required when listening on 0.0.0.0:9095`},
		// Duplicate keys.
		{"duplicate key", "  data_dir: ./klaxon-data", "  data_dir: ./klaxon-data\n  data_dir: /tmp",
			`klaxon.yml:4:3: server.data_dir: duplicate key "data_dir" (first at line 3)`},
		// A bad rule id.
		{"bad rule id", "id: high_error_rate", "id: high error rate",
			`klaxon.yml:10:9: rules[0].id: invalid rule id "high error rate" (use letters, digits, _ . -)`},
		// A replica's advertised URL with a password in it.
		{"advertise_url with user info", "  data_dir: ./klaxon-data", "  data_dir: ./klaxon-data\n  advertise_url: http://bob:hunter2@klaxon-1:9095",
			`klaxon.yml:4:18: server.advertise_url: must not contain user info (http://bob:xxxxx@klaxon-1:9095): replicas forward the client's credentials`},
		{"advertise_url not a URL", "  data_dir: ./klaxon-data", "  data_dir: ./klaxon-data\n  advertise_url: klaxon-1:9095",
			`klaxon.yml:4:18: server.advertise_url: invalid URL (want http:// or https:// and a host)`},
		// Scrape targets.
		{"scrape without url", "routes:", "scrape:\n  - interval: 30s\nroutes:",
			`klaxon.yml:16:5: scrape[0].url: required (the metrics page, e.g. http://127.0.0.1:9100/metrics)`},
		{"scrape url with password", "routes:", "scrape:\n  - url: http://u:secretpw@h:9100/metrics\nroutes:",
			`klaxon.yml:16:10: scrape[0].url: must not contain user info: use bearer_token`},
		{"scrape timeout over interval", "routes:", "scrape:\n  - url: http://h:9100/metrics\n    interval: 5s\n    timeout: 10s\nroutes:",
			`klaxon.yml:18:14: scrape[0].timeout: 10s is longer than interval 5s`},
		{"scrape bad label", "routes:", "scrape:\n  - url: http://h:9100/metrics\n    labels: {__job: x}\nroutes:",
			`klaxon.yml:17:14: scrape[0].labels.__job: invalid label name "__job" (want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`},
		{"scrape twice the same labels", "routes:", "scrape:\n  - url: http://h:9115/probe?target=a\n  - url: http://h:9115/probe?target=b\nroutes:",
			`klaxon.yml:17:5: scrape[1].labels: the same labels as scrape[0] (their series would overwrite each other): set labels to tell them apart, e.g. instance or job`},
		{"scrape unknown key", "routes:", "scrape:\n  - url: http://h:9100/metrics\n    intervall: 5s\nroutes:",
			`klaxon.yml:17:5: scrape[0].intervall: unknown key "intervall" (did you mean interval?)`},
		// An unset variable.
		{"unset variable", "./klaxon-data", "${KLAXON_DATA}",
			`klaxon.yml:3:13: server.data_dir: environment variable KLAXON_DATA is not set (use ${KLAXON_DATA:-default} for a default)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := strings.Replace(minimalYAML, tt.old, tt.new, 1)
			require.NotEqual(t, minimalYAML, src)
			probs := problemsOf(t, src, fakeOpts(nil))
			require.Equal(t, tt.want, probs.Error())
		})
	}
}

func TestParse_FieldErrorsJoined(t *testing.T) {
	t.Parallel()
	src := `channels:
  hook:
    type: webhook
    method: GET
  mail:
    type: email
    smtp_host: mx
`
	probs := problemsOf(t, src, fakeOpts(nil))
	// Joined and wrapped FieldErrors each point at their key; a missing
	// key points at the channel.
	require.Equal(t, `klaxon.yml:3:5: channels.hook.url: required
klaxon.yml:4:13: channels.hook.method: want POST or PUT
klaxon.yml:6:5: channels.mail.to: required`, probs.Error())
}

func TestParse_Full(t *testing.T) {
	t.Parallel()
	src := `server:
  listen: 0.0.0.0:9095
  api_token: ${TOKEN}
  database_url: postgres://klaxon:${DB_PASSWORD}@db/klaxon
  external_url: https://alerts.example.com
  resolve_timeout: 10m
evaluation_interval: 30s
history: {retention: 30d, max_resolved: 500}
x-retry: &retry
  max_attempts: 5
  max_age: 2h
channels:
  ops:
    type: webhook
    url: https://hooks.example.com/${HOOK_PATH:-default}
    secret: whsec_abc
    headers: {X-Team: sre}
    timeout: 1m30s
    retry:
      <<: *retry
      initial_backoff: 1s
    rate_limit: {per_second: 2.5, burst: 5}
  mail:
    type: email
    smtp_host: mx.example.com
    smtp_port: ${SMTP_PORT}
    insecure_skip_verify: true
    to: oncall@example.com
    from: klaxon@example.com
    disabled: true
  pd:
    type: pagerduty
    routing_key: ${PD_KEY}
templates:
  short: "{{ .Value }} $$5"
rules:
  - id: slow
    metric: response_time
    operator: ">"
    threshold: 500
    for: 1d12h
    hold: 90s
    no_data: alert
    labels: {team: web}
    annotations: {runbook: "https://runbooks/{{ .Value }}"}
    channels: [pd]
routes:
  - match:
      severity: ">= high"
      labels: {team: web}
      label_matchers: ['service=~"api|web"']
    notify: pd
    escalate: [{after: 15m, notify: [mail]}]
    continue: true
  - match: {severity: [low, info, low]}
    notify: [ops]
    failover: [mail]
    group_by: [service]
    repeat_interval: 1h
`
	env := map[string]string{"TOKEN": "tok-123456", "DB_PASSWORD": "hunter22", "SMTP_PORT": "2525", "PD_KEY": "pdkey-98765"}
	cfg, err := Parse("klaxon.yml", []byte(src), fakeOpts(env))
	require.NoError(t, err)

	require.Equal(t, "tok-123456", cfg.Server.APIToken.Reveal())
	require.Equal(t, "postgres://klaxon:hunter22@db/klaxon", cfg.Server.DatabaseURL.Reveal())
	require.Equal(t, 10*time.Minute, cfg.Server.ResolveTimeout)
	require.Equal(t, 30*24*time.Hour, cfg.History.Retention)
	require.Equal(t, 500, cfg.History.MaxResolved)

	ops := cfg.Channels["ops"]
	wh := ops.Config.(*fakeWebhook)
	require.Equal(t, "https://hooks.example.com/default", wh.URL)
	require.Equal(t, "whsec_abc", wh.Secret.Reveal())
	require.Equal(t, map[string]string{"X-Team": "sre"}, wh.Headers)
	require.Equal(t, 90*time.Second, wh.Timeout)
	// The merge key brings in max_attempts and max_age; defaults fill the rest.
	require.Equal(t, Retry{MaxAttempts: 5, MaxAge: 2 * time.Hour, InitialBackoff: time.Second,
		Timeout: DefaultAttemptTimeout, MaxBackoff: DefaultMaxBackoff, Jitter: DefaultJitter}, ops.Retry)
	require.Equal(t, &RateLimit{PerSecond: 2.5, Burst: 5}, ops.RateLimit)

	mail := cfg.Channels["mail"]
	require.True(t, mail.Disabled)
	require.Equal(t, &fakeEmail{SMTPHost: "mx.example.com", SMTPPort: 2525, From: "klaxon@example.com",
		To: []string{"oncall@example.com"}, Extra: fakeEmailExtras{InsecureSkipVerify: true}}, mail.Config)
	require.Equal(t, "pdkey-98765", cfg.Channels["pd"].Config.(*fakePagerDuty).RoutingKey.Reveal())

	require.Equal(t, map[string]string{"short": "{{ .Value }} $5"}, cfg.Templates)

	r := cfg.Rules[0]
	require.Equal(t, "response_time > 500", r.ConditionText())
	require.Equal(t, 36*time.Hour, r.For)
	require.Equal(t, 90*time.Second, r.Hold)
	require.Equal(t, "alert", r.NoData)
	require.Equal(t, DefaultSeverity, r.Severity)
	require.Equal(t, []string{"pd"}, r.Channels)

	r0 := cfg.Routes[0]
	require.Equal(t, SeverityMatch{alert.Critical, alert.High}, r0.Match.Severity)
	require.Equal(t, []string{"pd"}, r0.Notify)
	require.Equal(t, []Escalation{{After: 15 * time.Minute, Notify: []string{"mail"}, Pos: Pos{Line: 53, Col: 16}}}, r0.Escalate)
	require.True(t, r0.Continue)
	ms, err := r0.Match.Matchers()
	require.NoError(t, err)
	require.Equal(t, `[team="web" service=~"api|web"]`, strings.Join([]string{"[", ms[0].String(), " ", ms[1].String(), "]"}, ""))
	require.True(t, ms.Matches(alert.Labels{"team": "web", "service": "api"}))
	require.False(t, ms.Matches(alert.Labels{"team": "web", "service": "apiv2"}))

	r1 := cfg.Routes[1]
	require.Equal(t, SeverityMatch{alert.Low, alert.Info}, r1.Match.Severity)
	require.Equal(t, time.Hour, r1.RepeatInterval)
	require.Equal(t, []string{"service"}, r1.GroupBy)
}

func TestParse_EmptyAndSyntax(t *testing.T) {
	t.Parallel()
	// An empty file is every default and nothing else.
	cfg, err := Parse("empty.yml", nil, fakeOpts(nil))
	require.NoError(t, err)
	require.Equal(t, DefaultListen, cfg.Server.Listen)
	require.Empty(t, cfg.Channels)

	tests := []struct {
		name, src, want string
	}{
		// A YAML syntax error keeps yaml's line.
		{"syntax", "server:\n  listen: x\n bad: 1\n", `klaxon.yml:2:1: invalid YAML: did not find expected key`},
		// Tabs are not indentation in YAML.
		{"tab", "server:\n\tlisten: x\n", `klaxon.yml:2:1: invalid YAML: found character that cannot start any token`},
		// A second document is refused.
		{"two docs", "server: {}\n---\nrules: []\n", `klaxon.yml:2:1: a configuration file holds one YAML document; found another`},
		// The top level must be a mapping.
		{"scalar root", "hello\n", `klaxon.yml:1:1: expected a mapping, got "hello"`},
		// A section must be a mapping.
		{"list server", "server: [a]\n", `klaxon.yml:1:9: server: expected a mapping, got a list`},
		// An int field given a word.
		{"bad int", "history:\n  max_resolved: lots\n", `klaxon.yml:2:17: history.max_resolved: expected an integer, got "lots"`},
		// A channel that is not a mapping.
		{"scalar channel", "channels:\n  ops: webhook\n", `klaxon.yml:2:8: channels.ops.type: a channel needs a type (one of console, email, pagerduty, slack, webhook), got "webhook"`},
		// Rules with neither form of condition.
		{"no condition", "rules:\n  - id: x\n", `klaxon.yml:2:5: rules[0].condition: required (or metric, operator and threshold)`},
		// Both forms of condition.
		{"both conditions", "rules:\n  - id: x\n    condition: a > 1\n    metric: a\n", `klaxon.yml:4:13: rules[0].metric: use either condition or metric, operator and threshold, not both`},
		// A structured rule with a bad operator.
		{"bad operator", "rules:\n  - id: x\n    metric: a\n    operator: '=>'\n    threshold: 1\n", `klaxon.yml:4:15: rules[0].operator: unknown operator "=>" (want one of > >= < <= == !=)`},
		// Rule ids must be unique.
		{"duplicate id", "rules:\n  - {id: x, condition: a > 1}\n  - {id: x, condition: a > 2}\n", `klaxon.yml:3:10: rules[1].id: duplicate rule id "x" (first used by rules[0])`},
		// Escalation needs a delay.
		{"escalate without after", "channels: {c: {type: console}}\nroutes:\n  - notify: [c]\n    escalate: [{notify: [c]}]\n", `klaxon.yml:4:16: routes[0].escalate[0].after: required, greater than 0`},
		// A rate limit needs a rate.
		{"rate limit", "channels:\n  c:\n    type: console\n    rate_limit: {burst: 2}\n", `klaxon.yml:4:17: channels.c.rate_limit.per_second: required, a finite number greater than 0`},
		// NaN would switch the limit off silently.
		{"rate limit NaN", "channels:\n  c:\n    type: console\n    rate_limit: {per_second: .nan}\n", `klaxon.yml:4:30: channels.c.rate_limit.per_second: required, a finite number greater than 0`},
		{"jitter NaN", "channels:\n  c:\n    type: console\n    retry: {jitter: .nan}\n", `klaxon.yml:4:21: channels.c.retry.jitter: must be between 0 and 1`},
		// A bad external URL is shown without its password and query.
		{"external_url secrets", "server: {external_url: 'ftp://u:hunter2@x/?token=s3cret'}\n", `klaxon.yml:1:24: server.external_url: invalid URL "ftp://u:xxxxx@x/?..." (want http:// or https:// and a host)`},
		// A bad listen address.
		{"listen", "server: {listen: nowhere}\n", `klaxon.yml:1:18: server.listen: invalid address "nowhere" (want host:port, e.g. 127.0.0.1:9095)`},
		// A bad no_data mode.
		{"no_data", "rules:\n  - {id: x, condition: a > 1, no_data: drop}\n", `klaxon.yml:2:40: rules[0].no_data: unknown no_data mode "drop" (want keep, resolve or alert)`},
		// The parser's column moves the problem inside a quoted condition.
		{"quoted condition", "rules:\n  - id: x\n    condition: \"a > b\"\n", `klaxon.yml:3:21: rules[0].condition: col 5: bad number "b"`},
		// A recovery condition is checked too.
		{"recovery", "rules:\n  - {id: x, condition: a > 1, recovery: a <}\n", `klaxon.yml:2:44: rules[0].recovery: col 4: want metric, operator and threshold`},
		// A named template is checked.
		{"templates", "templates:\n  t: '{{ if }}'\n", `klaxon.yml:2:6: templates.t: template: t:1: missing value for if`},
		// A threshold that is not a number is one problem, not two.
		{"bad threshold", "rules:\n  - {id: a, condition: 'x > 1', threshold: abc}\n", `klaxon.yml:2:44: rules[0].threshold: expected a number, got "abc"`},
		// Unknown keys in the common channel keys suggest them too.
		{"common channel key", "channels:\n  a: {type: console, retyr: {}}\n", `klaxon.yml:2:22: channels.a.retyr: unknown key "retyr" (did you mean retry?)`},
		// Inline structs contribute their keys.
		{"inline key", "channels:\n  a: {type: email, smtp_host: x, to: [a], ca_fil: x}\n", `klaxon.yml:2:43: channels.a.ca_fil: unknown key "ca_fil" (did you mean ca_file?)`},
		// A severity list with a bad entry.
		{"severity list", "routes:\n  - {match: {severity: [high, bogus]}}\n", `klaxon.yml:2:31: routes[0].match.severity[1]: unknown severity "bogus" (want critical, high, medium, low or info)`},
		// An empty host listens everywhere.
		{"listen all", "server: {listen: ':9095'}\n", `klaxon.yml:1:18: server.api_token: required when listening on :9095`},
		// A token of blanks is no token.
		{"blank token", "server: {listen: '127.0.0.1:9095', api_token: '  '}\n", `klaxon.yml:1:47: server.api_token: is blank (only whitespace): set a token, or remove the key for none`},
		// A literal block condition keeps the condition's own position.
		{"block condition", "rules:\n  - id: a\n    condition: |\n      x >> 1\n", `klaxon.yml:3:16: rules[0].condition: col 3: unknown operator ">>"`},
		// A "key: message" error without FieldError still finds its key.
		{"keyed error", "channels:\n  s:\n    type: slack\n    token: xoxb\n", `klaxon.yml:3:5: channels.s.channel: required with token`},
		// Anything else points at the channel.
		{"channel error", "channels:\n  s:\n    type: slack\n    api_url: bad\n", `klaxon.yml:3:5: channels.s: api_url is bad: no`},
		// A bad label name.
		{"label name", "rules:\n  - id: x\n    condition: a > 1\n    labels: {bad-name: x}\n", `klaxon.yml:4:14: rules[0].labels.bad-name: invalid label name "bad-name"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, problemsOf(t, tt.src, fakeOpts(nil)).Error())
		})
	}
}

func TestParse_AllProblemsCollected(t *testing.T) {
	t.Parallel()
	src := `server:
  listn: x
channels:
  a: {type: console, colour: true}
  b: {type: console, retry: {timeout: forever}}
rules:
  - {id: r1, condition: "x > 1", for: soon, severity: loud, channels: [c]}
`
	probs := problemsOf(t, src, fakeOpts(nil))
	var got []string
	for _, p := range probs {
		got = append(got, p.Path)
	}
	require.Equal(t, []string{"server.listn", "channels.a.colour", "channels.b.retry.timeout",
		"rules[0].for", "rules[0].severity", "rules[0].channels[0]"}, got)
	// Sorted by position.
	for i := 1; i < len(probs); i++ {
		require.LessOrEqual(t, probs[i-1].Line, probs[i].Line)
	}
}

func TestParse_AliasBomb(t *testing.T) {
	t.Parallel()
	// Aliases that multiply stop with a problem instead of exploding.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	// Without a registry a channel's keys decode into map[string]any,
	// where the aliases would expand to 10^10 values.
	b.WriteString("channels: {c: {type: x, k: *a9}}\n")
	probs := problemsOf(t, "x-"+b.String(), nil)
	require.Contains(t, probs.Error(), "document too large (too many aliases?)")
}

func TestDurations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},         // seconds
		{"5m", 5 * time.Minute, true},           // minutes
		{"1h30m", 90 * time.Minute, true},       // compound
		{"0", 0, true},                          // bare zero
		{"7d", 7 * 24 * time.Hour, true},        // days
		{"1d12h", 36 * time.Hour, true},         // days and more
		{"500ms", 500 * time.Millisecond, true}, // sub-second
		{"-1m", -time.Minute, true},             // negative parses (fields reject it)
		{"5 minutes", 0, false},                 // words
		{"30", 0, false},                        // missing unit
		{"d", 0, false},                         // no number
		{"1d-5h", 0, false},                     // sign inside
		{"", 0, false},                          // empty
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if !tt.ok {
			require.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

func TestSeverityMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want SeverityMatch
	}{
		{"critical", SeverityMatch{alert.Critical}},                                                 // one name
		{">= high", SeverityMatch{alert.Critical, alert.High}},                                      // at least
		{"> medium", SeverityMatch{alert.Critical, alert.High}},                                     // above
		{"<= low", SeverityMatch{alert.Low, alert.Info}},                                            // at most
		{"<medium", SeverityMatch{alert.Low, alert.Info}},                                           // no space
		{"== warning", SeverityMatch{alert.Medium}},                                                 // alias
		{">= info", SeverityMatch{alert.Critical, alert.High, alert.Medium, alert.Low, alert.Info}}, // all
	}
	for _, tt := range tests {
		got, err := ParseSeverityMatch(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
	_, err := ParseSeverityMatch("> critical")
	require.EqualError(t, err, `"> critical" matches no severity`)
	require.True(t, SeverityMatch(nil).Matches(alert.Info))
	require.False(t, SeverityMatch{alert.High}.Matches(alert.Info))
}

func TestParseLabelMatcher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"team=sre", `team="sre"`},                   // equal
		{"team!=sre", `team!="sre"`},                 // not equal
		{`service=~"api|web"`, `service=~"api|web"`}, // quoted regex
		{"env!~prod.*", `env!~"prod.*"`},             // negated regex
	}
	for _, tt := range tests {
		m, err := ParseLabelMatcher(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, m.String())
	}
	for _, bad := range []string{"team", "=x", "te am=x", "a=~("} {
		_, err := ParseLabelMatcher(bad)
		require.Error(t, err, bad)
	}
}

func TestDefault(t *testing.T) {
	t.Parallel()
	cfg := Default()
	require.Equal(t, DefaultListen, cfg.Server.Listen)
	require.Equal(t, DefaultEvaluationInterval, cfg.EvaluationInterval)
	require.Equal(t, []string{"console"}, keys(cfg.Channels))
	require.Equal(t, "console", cfg.Channels["console"].Type)
	require.Len(t, cfg.Routes, 1)
	require.Equal(t, []string{"console"}, cfg.Routes[0].Notify)
	var ids []string
	for _, r := range cfg.Rules {
		ids = append(ids, r.ID)
		require.NoError(t, fakeParseCondition(r.Condition), r.ID)
		require.NoError(t, fakeCheckTemplate(r.ID, r.Summary), r.ID)
	}
	require.Contains(t, ids, "high_error_rate")
	require.Contains(t, ids, "high_memory_usage")
}

func TestProblem_String(t *testing.T) {
	t.Parallel()
	require.Equal(t, "f.yml:3:4: a.b: bad", Problem{File: "f.yml", Line: 3, Col: 4, Path: "a.b", Msg: "bad"}.String())
	require.Equal(t, "MCP_ALERT_X: bad", Problem{Path: "MCP_ALERT_X", Msg: "bad"}.String())
	require.Equal(t, "just this", Problem{Msg: "just this"}.String())
	require.Equal(t, "f.yml: a: bad", Problem{File: "f.yml", Path: "a", Msg: "bad"}.String())
}
