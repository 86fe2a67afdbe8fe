package mcp

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
)

// Ids of the built-in MCP rules.
const (
	RuleHighErrorRate       = "high_error_rate"
	RuleHighResponseTime    = "high_response_time"
	RuleToolP95Latency      = "tool_p95_latency"
	RuleConsecutiveFailures = "tool_consecutive_failures"
	RuleToolDisappeared     = "tool_disappeared"
	RuleNoRequests          = "no_requests"
)

// RulesOptions tune DefaultRules. The zero value (or nil) means defaults.
type RulesOptions struct {
	// ErrorRate is high_error_rate's threshold, a fraction. Default 0.05.
	ErrorRate float64
	// ErrorRateFor is how long a tool's error rate must stay above it.
	// Default 5m; -1 fires at the first evaluation that sees it.
	ErrorRateFor time.Duration
	// ResponseTime is high_response_time's threshold on the average
	// latency of tool calls. Default 5s.
	ResponseTime time.Duration
	// ResponseTimeFor is how long the average must stay above it. Default
	// 3m; -1 fires at once.
	ResponseTimeFor time.Duration
	// P95 is tool_p95_latency's threshold on a tool's 95th percentile over
	// 5 minutes. Default 2s.
	P95 time.Duration
	// ConsecutiveFailures is how many failed calls of one tool in a row
	// fire tool_consecutive_failures. Default 5.
	ConsecutiveFailures int
	// ExpectTraffic turns no_requests on: it fires when the server has
	// answered no request at all for this long. Zero (default) leaves the
	// rule out, as idle servers are normal; at most 1h (the registry's
	// retention).
	ExpectTraffic time.Duration
	// Drop removes rules by id.
	Drop []string
	// Replace replaces the built-in rule with the same id; rules with a
	// new id are added.
	Replace []klaxon.Rule
}

// DefaultRules returns the built-in MCP rules, tuned by opts (nil means
// defaults). Conditions read the series the Recorder writes:
//
//	high_error_rate            error_rate{method="tools/call"} > 0.05            for 5m   high
//	high_response_time         avg(response_time{method="tools/call"}[1m]) > 5000 for 3m  medium
//	tool_p95_latency           p95(response_time{method="tools/call"}[5m]) > 2000 for 5m  medium
//	tool_consecutive_failures  tool_consecutive_failures >= 5                              high
//	tool_disappeared           tool_listed == 0                                            high
//	no_requests                absent(request_count[D]) (only with ExpectTraffic)          high
//
// error_rate without a window is the fraction of failed calls of the last
// 5 minutes (metric.Options.DefaultWindow); every rule but no_requests
// fires per tool.
func DefaultRules(opts *RulesOptions) []klaxon.Rule {
	if opts == nil {
		opts = &RulesOptions{}
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	forOf := func(d, def time.Duration) time.Duration {
		if d < 0 {
			return 0
		}
		return cmp.Or(d, def)
	}
	tools := `{method="` + MethodCallTool + `"}`
	rules := []klaxon.Rule{
		{
			ID: RuleHighErrorRate, Name: "High tool error rate",
			Condition: klaxon.Threshold("error_rate"+tools, ">", cmp.Or(opts.ErrorRate, 0.05)),
			For:       forOf(opts.ErrorRateFor, 5*time.Minute), Severity: alert.High,
			Summary:     `Tool {{ .Labels.tool }} fails {{ percent .Value }} of its calls`,
			Description: `More than {{ percent .ThresholdValue }} of the calls of MCP tool {{ .Labels.tool }} failed over the last 5 minutes (JSON-RPC errors and results marked isError).`,
		},
		{
			ID: RuleHighResponseTime, Name: "Slow tool",
			Condition: "avg(response_time" + tools + "[1m]) > " + ms(cmp.Or(opts.ResponseTime, 5*time.Second)),
			For:       forOf(opts.ResponseTimeFor, 3*time.Minute), Severity: alert.Medium,
			Summary: `Tool {{ .Labels.tool }} takes {{ humanize .Value }} ms on average`,
		},
		{
			ID: RuleToolP95Latency, Name: "Tool p95 latency",
			Condition: "p95(response_time" + tools + "[5m]) > " + ms(cmp.Or(opts.P95, 2*time.Second)),
			For:       5 * time.Minute, Severity: alert.Medium,
			Summary: `Tool {{ .Labels.tool }}: 95% of calls take up to {{ humanize .Value }} ms`,
		},
		{
			ID: RuleConsecutiveFailures, Name: "Tool failing repeatedly",
			Condition: fmt.Sprintf("%s >= %d", NameConsecutiveFailures, cmp.Or(opts.ConsecutiveFailures, 5)),
			Severity:  alert.High,
			Summary:   `Tool {{ .Labels.tool }} failed {{ .Value }} times in a row`,
		},
		{
			ID: RuleToolDisappeared, Name: "Tool disappeared",
			Condition: NameToolListed + " == 0", Severity: alert.High,
			Summary: `Tool {{ .Labels.tool }} is no longer in tools/list`,
		},
	}
	if opts.ExpectTraffic > 0 {
		rules = append(rules, klaxon.Rule{
			ID: RuleNoRequests, Name: "No MCP requests",
			Condition: fmt.Sprintf("absent(request_count[%s])", promDuration(opts.ExpectTraffic)),
			Severity:  alert.High,
			Summary:   "The MCP server answered no request for " + opts.ExpectTraffic.String(),
		})
	}
	rules = slices.DeleteFunc(rules, func(r klaxon.Rule) bool { return slices.Contains(opts.Drop, r.ID) })
	for _, rep := range opts.Replace {
		if i := slices.IndexFunc(rules, func(r klaxon.Rule) bool { return r.ID == rep.ID }); i >= 0 {
			rules[i] = rep
		} else {
			rules = append(rules, rep)
		}
	}
	return rules
}

// WithRules adds DefaultRules(opts) to an engine:
//
//	klaxon.New(klaxon.WithDataDir(dir), mcp.WithRules(nil))
//
// klaxon.FromEnv's embedded default configuration already has a rule with
// id high_error_rate (all requests, for 2m): drop one of the two
// (RulesOptions.Drop) when combining them, as rule ids must be unique.
func WithRules(opts *RulesOptions) klaxon.Option {
	return klaxon.WithRules(DefaultRules(opts)...)
}

// promDuration renders d in the condition language's units (s, m, h).
func promDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	default:
		return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "s"
	}
}
