// Package mcp gives Go MCP (Model Context Protocol) servers production
// alerting in a few lines, and exposes klaxon itself as MCP tools.
//
// # Instrumenting a server
//
// For servers built on the official SDK (github.com/modelcontextprotocol/go-sdk):
//
//	engine, _ := klaxon.New(klaxon.FromEnv(), mcp.WithRules(nil))
//	server := sdk.NewServer(&sdk.Implementation{Name: "srv"}, nil)
//	mcp.Instrument(server, engine.Metrics(), nil)
//	go engine.Run(ctx)
//
// Instrument installs receiving middleware (Server.AddReceivingMiddleware)
// that records every request, per method and per tool, into the engine's
// metric registry. Servers built on github.com/mark3labs/mcp-go use the
// sub-package mcp/mcpgo, which feeds the same Recorder through that
// library's hooks and tool middleware.
//
// # Metrics
//
// Each request lands in exactly one label set: {method="tools/call",
// tool="NAME"} for tool calls, {method="M"} otherwise. The Recorder fills
// the built-in metrics, so the original request's default rules
// (error_rate > 0.05, response_time > 1000) work unchanged, per tool:
//
//   - request_count, errors (counters) and error_rate (errors /
//     request_count, derived): a request fails when it answers a JSON-RPC
//     error, or a tools/call result marked isError (a failed tool is a
//     successful JSON-RPC response, so generic RPC error rates miss it);
//   - response_time (histogram, milliseconds): avg, p95 and p99 work;
//   - requests_in_flight (gauge, same labels);
//   - handler_panics (counter, same labels): panics recovered;
//   - tool_consecutive_failures{tool} (gauge): failed calls in a row;
//   - tool_listed{tool} (gauge): 1 while tools/list shows the tool, 0 once
//     a complete listing (not one page of it) no longer does;
//   - active_connections and mcp_sessions (gauges): open sessions.
//
// # Label names and OpenTelemetry
//
// OpenTelemetry's MCP semantic conventions (development status, now in the
// semantic-conventions-genai repository) define the metric
// mcp.server.operation.duration with the attributes mcp.method.name
// (required), gen_ai.tool.name (when the operation is a tool call),
// error.type (when it fails; "tool_error" for isError results) and
// rpc.response.status_code. klaxon maps:
//
//	mcp.method.name  -> method
//	gen_ai.tool.name -> tool
//
// The dotted names are not valid label names in klaxon's (Prometheus-style)
// label syntax [a-zA-Z_][a-zA-Z0-9_]*, and the usual OpenTelemetry to
// Prometheus translation would turn them into mcp_method_name and
// gen_ai_tool_name, which are long to write in every condition. klaxon uses
// the short names, which are what the alert texts and routes match on
// ({{ .Labels.tool }}, match: {tool: search}). error.type and the status
// code are not labels: they would multiply the series of a tool, and the
// error rate is what the rules need.
//
// # Panics
//
// The SDK recovers no panic of a handler: one panicking tool would end the
// process. The middleware recovers it, logs it with its stack, counts it,
// and answers a tool result with isError and PanicMessage (tools/call; the
// model sees the failure, the session goes on) or a JSON-RPC internal error
// (other methods).
//
// # Cost
//
// Recording a request takes one map read without a lock (a copy-on-write
// map of pre-resolved handles per method and per tool), two clock reads and
// a few atomic operations; it allocates nothing and takes no lock.
// Requests in flight and sessions are published to their gauges when the
// registry collects, not on the request path. On the 2-core development VM
// (kvm-clock, where time.Now plus time.Since alone cost about 95 ns) the
// middleware costs about 180 ns per request, about 85 ns of it recording.
// See BenchmarkMiddleware and BenchmarkClock.
//
// # Rules
//
// DefaultRules returns the MCP rules (high_error_rate, high_response_time,
// tool_p95_latency, tool_consecutive_failures, tool_disappeared,
// no_requests); WithRules adds them to an engine. RulesOptions drops or
// overrides any of them by id.
//
// # klaxon as MCP tools
//
// NewServer returns an MCP server (go-sdk) exposing list_alerts, get_alert,
// acknowledge_alert, resolve_alert, silence_alerts, list_channels,
// test_channel and fire_alert over a Backend: EngineBackend (an embedded
// *klaxon.Engine) or HTTPBackend (a running klaxon's HTTP API). `klaxon
// mcp` serves it over stdio or streamable HTTP.
package mcp
