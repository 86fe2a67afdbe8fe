// Package klaxon is an alerting engine you embed in a Go program or run as a
// daemon (`klaxon serve`). It evaluates rules over metrics, keeps the
// lifecycle of every alert (pending, active, acknowledged, suppressed,
// resolved), and delivers notifications durably to webhooks, email, Slack,
// PagerDuty and the console, with retries, rate limits, failover and
// escalation.
//
// A service gets alerting in a few lines:
//
//	eng, err := klaxon.New(
//		klaxon.WithRules(klaxon.Rule{ID: "high_error_rate", Condition: "error_rate > 0.05", Severity: alert.Critical}),
//		klaxon.WithChannel("ops", webhookChannel),
//	)
//	if err != nil { ... }
//	go eng.Run(ctx)
//	eng.Metrics().RecordRequest(nil, elapsed, failed)
//
// or, with the channels described by MCP_ALERT_* environment variables,
// klaxon.New(klaxon.FromEnv()). Everything a YAML file can say, WithConfig
// accepts as a *config.Config; options that exist only in Go (providers,
// custom channels, logger, clock, Prometheus registerer) are functional
// options.
//
// # Replicas
//
// Engines whose store is PostgreSQL (server.database_url, or WithStore with a
// store/postgres store) form a replica set with every other engine on the
// same database and schema. One leads: it evaluates rules and changes
// alerts. Every one delivers. Run makes a first attempt to lead before Ready
// closes, so a lone engine leads from the start; the others follow, forward
// their HTTP API to the leader, and take over when it goes. A follower
// holds no open alerts (Alerts is empty; ask the leader's API), and Manager
// calls that change alerts or silences fail with store.ErrNotLeader, as does
// an Evaluate that would change one; Leading tells which role an engine has
// now.
package klaxon
