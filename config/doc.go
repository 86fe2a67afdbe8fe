// Package config reads klaxon's configuration: a YAML file (Load, Parse),
// the MCP_ALERT_* environment (FromEnv, Config.ApplyEnv), or the embedded
// default (Default).
//
// # Files
//
// A file is strict: an unknown key is a problem (with the closest known
// key suggested), and so is a value of the wrong type, a bad duration
// ("5 minutes"; write 30s, 5m, 1h30m or 7d), a route, escalation, failover
// or rule naming a channel that is not defined, a condition that does not
// parse and a template that does not render. Every problem is collected,
// not just the first, and printed as
//
//	FILE:LINE:COL: field.path: message
//
// for example "klaxon.yml:12:7: rules[0].for: invalid duration "5 minutes"
// (use 30s, 5m, 1h)". Values may use ${VAR}, ${VAR:-default} and $$ (a
// literal $); an unset or empty variable without a default is a problem
// naming it.
//
// Channel types decode their own keys: LoadOptions.ChannelTypes maps each
// type name to a ChannelType whose NewConfig returns the struct the keys go
// into, and whose Validate method (if any) can blame a key with a
// *FieldError. Conditions and templates are checked by the functions in
// LoadOptions, so this package does not depend on the rule or template
// packages.
//
// Top-level keys that start with "x-" are ignored, so YAML anchors
// (&name) have somewhere to live; merge keys (<<: *name) work anywhere.
//
// # Defaults
//
// Zero means the default everywhere; Config.WithDefaults fills them in and
// every loader returns filled configurations. The defaults (constants in
// defaults.go):
//
//	server.listen              127.0.0.1:9095 (beyond loopback needs server.api_token)
//	server.data_dir            ./klaxon-data
//	server.database_url        "" (SQLite in data_dir)
//	server.resolve_timeout     5m
//	server.advertise_url       http:// + server.listen (replicas on PostgreSQL forward to the leader's)
//	evaluation_interval        15s
//	history.retention          168h
//	history.max_resolved       10000
//	channels.*.retry           timeout 10s, initial_backoff 500ms doubling to max_backoff 1m,
//	                           max_age 1h, max_attempts 0 (unlimited within max_age), jitter 0.2
//	channels.*.rate_limit      none; burst 1 when per_second is set
//	channels.*.breaker         failures 10 in a row (or half of 20+ calls in a minute), open_for 10s
//	channels.*.concurrency     16 sends at once for webhooks, 8 for other types, 1 under a rate limit below 2/s
//	channels.*.max_held        10000 notifications in memory (the rest of a backlog waits in the store)
//	routes[*].group_wait       0
//	routes[*].group_interval   5m
//	routes[*].repeat_interval  4h
//	routes[*].continue         false (the first matching route wins)
//	rules[*].severity          medium
//	rules[*].for, hold         0
//	rules[*].no_data           keep
//
// # Environment
//
// FromEnv makes a channel per group of variables: MCP_ALERT_WEBHOOK_URL
// (+_SECRET) [webhook]; MCP_ALERT_EMAIL_SMTP_HOST, _FROM, _TO (comma
// separated), _SMTP_PORT, _USERNAME, _PASSWORD [email];
// MCP_ALERT_SLACK_TOKEN with MCP_ALERT_SLACK_CHANNEL, or
// MCP_ALERT_SLACK_WEBHOOK_URL [slack]; MCP_ALERT_PAGERDUTY_ROUTING_KEY
// [pagerduty]; plus a console channel. Without routes, DefaultRoutes sends
// critical and high alerts to PagerDuty and every alert to the others. A
// partial or contradictory set of variables is an error naming them.
package config
