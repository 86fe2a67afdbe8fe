package mcp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/internal/version"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/secret"
	"github.com/klaxonhq/klaxon/store"
)

// ErrUnauthorized is returned (as a tool error) when a write tool is called
// without the API token a klaxon with a token requires.
var ErrUnauthorized = errors.New("this klaxon requires its API token for write tools: pass it as the \"token\" argument, or as \"Authorization: Bearer TOKEN\" on the HTTP transport")

// ServerOptions configure NewServer. The zero value (or nil) means defaults.
type ServerOptions struct {
	// Token, when set, is required by the write tools (acknowledge_alert,
	// resolve_alert, silence_alerts, test_channel, fire_alert).
	Token secret.String
	// Now is the clock for silence start times. Default time.Now.
	Now func() time.Time
	// Logger is the MCP server's logger. Default discards.
	Logger *slog.Logger
}

// Tool names of the klaxon MCP server.
const (
	ToolListAlerts   = "list_alerts"
	ToolGetAlert     = "get_alert"
	ToolAcknowledge  = "acknowledge_alert"
	ToolResolve      = "resolve_alert"
	ToolSilence      = "silence_alerts"
	ToolListChannels = "list_channels"
	ToolTestChannel  = "test_channel"
	ToolFireAlert    = "fire_alert"
)

// ListAlertsInput is list_alerts' input.
type ListAlertsInput struct {
	State    string `json:"state,omitempty" jsonschema:"comma-separated states: pending, active, acknowledged, suppressed, resolved; or all. Default: every open alert"`
	Severity string `json:"severity,omitempty" jsonschema:"only this severity: critical, high, medium, low or info"`
	Rule     string `json:"rule,omitempty" jsonschema:"only alerts of this rule id"`
	Limit    int    `json:"limit,omitempty" jsonschema:"at most this many alerts (0: no limit)"`
}

// AlertIDInput is get_alert's input.
type AlertIDInput struct {
	ID string `json:"id" jsonschema:"the alert's id or fingerprint"`
}

// AcknowledgeInput is acknowledge_alert's input.
type AcknowledgeInput struct {
	ID      string `json:"id" jsonschema:"the alert's id or fingerprint"`
	By      string `json:"by,omitempty" jsonschema:"who acknowledges; default mcp"`
	Comment string `json:"comment,omitempty" jsonschema:"why, or what is being done"`
	Token   string `json:"token,omitempty" jsonschema:"klaxon API token, when the server requires one"`
}

// ResolveInput is resolve_alert's input.
type ResolveInput struct {
	ID    string `json:"id" jsonschema:"the alert's id or fingerprint"`
	By    string `json:"by,omitempty" jsonschema:"who resolves; default mcp"`
	Token string `json:"token,omitempty" jsonschema:"klaxon API token, when the server requires one"`
}

// MatcherInput is one label matcher of silence_alerts.
type MatcherInput struct {
	Name  string `json:"name" jsonschema:"label name"`
	Op    string `json:"op,omitempty" jsonschema:"operator: equal (=, the default), not equal (!=), regular expression match (=~) or no match (!~); expressions are anchored at both ends"`
	Value string `json:"value" jsonschema:"label value or regular expression"`
}

// SilenceInput is silence_alerts' input.
type SilenceInput struct {
	Matchers  []MatcherInput `json:"matchers" jsonschema:"alerts whose labels match all of these are silenced"`
	Duration  string         `json:"duration" jsonschema:"how long, as a Go duration: 30m, 2h"`
	Comment   string         `json:"comment,omitempty" jsonschema:"why"`
	CreatedBy string         `json:"created_by,omitempty" jsonschema:"who; default mcp"`
	Token     string         `json:"token,omitempty" jsonschema:"klaxon API token, when the server requires one"`
}

// ChannelInput is test_channel's input.
type ChannelInput struct {
	Name  string `json:"name" jsonschema:"channel name, as list_channels shows it"`
	Token string `json:"token,omitempty" jsonschema:"klaxon API token, when the server requires one"`
}

// FireInput is fire_alert's input.
type FireInput struct {
	Labels      map[string]string `json:"labels" jsonschema:"the alert's labels; they identify it (alertname is added when missing)"`
	Severity    string            `json:"severity,omitempty" jsonschema:"critical, high, medium (default), low or info"`
	Summary     string            `json:"summary,omitempty" jsonschema:"one-line summary"`
	Description string            `json:"description,omitempty" jsonschema:"longer description"`
	Token       string            `json:"token,omitempty" jsonschema:"klaxon API token, when the server requires one"`
}

// NoInput is the input of tools without arguments.
type NoInput struct{}

// tools holds what the handlers share.
type tools struct {
	b     Backend
	token secret.String
	now   func() time.Time
}

// NewServer returns an MCP server exposing b as the klaxon tools. opts may
// be nil. Read-only tools carry ReadOnlyHint; the others require
// opts.Token when it is set.
func NewServer(b Backend, opts *ServerOptions) *sdk.Server {
	if opts == nil {
		opts = &ServerOptions{}
	}
	t := &tools{b: b, token: opts.Token, now: opts.Now}
	if t.now == nil {
		t.now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "klaxon", Title: "klaxon alerting", Version: version.Version}, &sdk.ServerOptions{
		Logger:       log,
		Instructions: "Tools to inspect and act on klaxon alerts: list and read alerts, acknowledge, resolve, silence, check and test notification channels, fire an alert.",
	})
	yes, no := true, false
	ro := &sdk.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &no}
	sdk.AddTool(s, &sdk.Tool{Name: ToolListAlerts, Title: "List alerts", Annotations: ro,
		Description: "List klaxon alerts: open ones by default; filter by state, severity, rule."}, t.listAlerts)
	sdk.AddTool(s, &sdk.Tool{Name: ToolGetAlert, Title: "Get alert", Annotations: ro,
		Description: "Get one alert by id or fingerprint."}, t.getAlert)
	sdk.AddTool(s, &sdk.Tool{Name: ToolListChannels, Title: "List channels", Annotations: ro,
		Description: "List notification channels with their delivery health (circuit state, last error, counts)."}, t.listChannels)
	sdk.AddTool(s, &sdk.Tool{Name: ToolAcknowledge, Title: "Acknowledge alert",
		Annotations: &sdk.ToolAnnotations{IdempotentHint: true, DestructiveHint: &no, OpenWorldHint: &no},
		Description: "Acknowledge an open alert: escalation stops and channels are told who is on it."}, t.acknowledge)
	sdk.AddTool(s, &sdk.Tool{Name: ToolResolve, Title: "Resolve alert",
		Annotations: &sdk.ToolAnnotations{IdempotentHint: true, DestructiveHint: &yes, OpenWorldHint: &no},
		Description: "Resolve an open alert by hand."}, t.resolve)
	sdk.AddTool(s, &sdk.Tool{Name: ToolSilence, Title: "Silence alerts",
		Annotations: &sdk.ToolAnnotations{DestructiveHint: &no, OpenWorldHint: &no},
		Description: "Silence alerts whose labels match for a duration: they notify nobody until it ends."}, t.silence)
	sdk.AddTool(s, &sdk.Tool{Name: ToolTestChannel, Title: "Test channel",
		Annotations: &sdk.ToolAnnotations{DestructiveHint: &no, OpenWorldHint: &yes},
		Description: "Send a sample notification through one channel and report the receiver's answer."}, t.testChannel)
	sdk.AddTool(s, &sdk.Tool{Name: ToolFireAlert, Title: "Fire alert",
		Annotations: &sdk.ToolAnnotations{DestructiveHint: &no, OpenWorldHint: &yes},
		Description: "Fire an alert evaluated elsewhere; posting the same labels again refreshes it."}, t.fire)
	return s
}

// authorize checks the token of a write tool: the argument, or the HTTP
// Authorization header of the streamable transport.
func (t *tools) authorize(req *sdk.CallToolRequest, arg string) error {
	if t.token.IsZero() {
		return nil
	}
	want := []byte(t.token.Reveal())
	if arg != "" && subtle.ConstantTimeCompare([]byte(arg), want) == 1 {
		return nil
	}
	if req != nil && req.Extra != nil && req.Extra.Header != nil {
		h := req.Extra.Header.Get("Authorization")
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok && subtle.ConstantTimeCompare([]byte(tok), want) == 1 {
			return nil
		}
	}
	return ErrUnauthorized
}

// jsonResult renders v as the tool's text content (indented JSON).
func jsonResult(v any) (*sdk.CallToolResult, any, error) {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("encode result: %w", err)
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(raw)}}}, nil, nil
}

// toolError makes a backend error readable for the caller.
func toolError(what, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no %s %q", what, id)
	}
	return err
}

func (t *tools) listAlerts(ctx context.Context, _ *sdk.CallToolRequest, in ListAlertsInput) (*sdk.CallToolResult, any, error) {
	f := AlertFilter{RuleID: in.Rule, Limit: in.Limit}
	switch in.State {
	case "":
	case "all":
		f.States = alert.States
	default:
		for _, s := range strings.Split(in.State, ",") {
			st, err := alert.ParseState(strings.TrimSpace(s))
			if err != nil {
				return nil, nil, fmt.Errorf("state: %w", err)
			}
			f.States = append(f.States, st)
		}
	}
	if in.Severity != "" {
		sev, err := alert.ParseSeverity(in.Severity)
		if err != nil {
			return nil, nil, fmt.Errorf("severity: %w", err)
		}
		f.Severity = sev
	}
	alerts, err := t.b.Alerts(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	if alerts == nil {
		alerts = []*alert.Alert{}
	}
	return jsonResult(map[string]any{"alerts": alerts, "count": len(alerts)})
}

func (t *tools) getAlert(ctx context.Context, _ *sdk.CallToolRequest, in AlertIDInput) (*sdk.CallToolResult, any, error) {
	a, err := t.b.Alert(ctx, in.ID)
	if err != nil {
		return nil, nil, toolError("alert", in.ID, err)
	}
	return jsonResult(a)
}

func (t *tools) listChannels(ctx context.Context, _ *sdk.CallToolRequest, _ NoInput) (*sdk.CallToolResult, any, error) {
	ch, err := t.b.Channels(ctx)
	if err != nil {
		return nil, nil, err
	}
	return jsonResult(map[string]any{"channels": ch})
}

func (t *tools) acknowledge(ctx context.Context, req *sdk.CallToolRequest, in AcknowledgeInput) (*sdk.CallToolResult, any, error) {
	if err := t.authorize(req, in.Token); err != nil {
		return nil, nil, err
	}
	a, err := t.b.Acknowledge(ctx, in.ID, or(in.By, "mcp"), in.Comment)
	if err != nil {
		return nil, nil, toolError("open alert", in.ID, err)
	}
	return jsonResult(a)
}

func (t *tools) resolve(ctx context.Context, req *sdk.CallToolRequest, in ResolveInput) (*sdk.CallToolResult, any, error) {
	if err := t.authorize(req, in.Token); err != nil {
		return nil, nil, err
	}
	a, err := t.b.Resolve(ctx, in.ID, or(in.By, "mcp"))
	if err != nil {
		return nil, nil, toolError("open alert", in.ID, err)
	}
	return jsonResult(a)
}

func (t *tools) silence(ctx context.Context, req *sdk.CallToolRequest, in SilenceInput) (*sdk.CallToolResult, any, error) {
	if err := t.authorize(req, in.Token); err != nil {
		return nil, nil, err
	}
	if len(in.Matchers) == 0 {
		return nil, nil, errors.New("matchers: at least one matcher is required")
	}
	d, err := time.ParseDuration(in.Duration)
	if err != nil || d <= 0 {
		return nil, nil, fmt.Errorf("duration: want a positive Go duration such as 30m or 2h, got %q", in.Duration)
	}
	var ms alert.Matchers
	for i, m := range in.Matchers {
		op := alert.MatchOp(or(m.Op, string(alert.MatchEqual)))
		am, err := alert.NewMatcher(m.Name, op, m.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("matchers[%d]: %w", i, err)
		}
		ms = append(ms, am)
	}
	now := t.now()
	s, err := t.b.Silence(ctx, &store.Silence{
		Matchers: ms, StartsAt: now, EndsAt: now.Add(d), CreatedBy: or(in.CreatedBy, "mcp"), Comment: in.Comment,
	})
	if err != nil {
		return nil, nil, err
	}
	return jsonResult(s)
}

func (t *tools) testChannel(ctx context.Context, req *sdk.CallToolRequest, in ChannelInput) (*sdk.CallToolResult, any, error) {
	if err := t.authorize(req, in.Token); err != nil {
		return nil, nil, err
	}
	rc, err := t.b.TestChannel(ctx, in.Name)
	if err != nil {
		return nil, nil, toolError("channel", in.Name, err)
	}
	return jsonResult(map[string]any{"channel": in.Name, "ok": true, "status_code": rc.StatusCode, "detail": rc.Detail})
}

func (t *tools) fire(ctx context.Context, req *sdk.CallToolRequest, in FireInput) (*sdk.CallToolResult, any, error) {
	if err := t.authorize(req, in.Token); err != nil {
		return nil, nil, err
	}
	if len(in.Labels) == 0 {
		return nil, nil, errors.New("labels: at least one label is required")
	}
	labels := alert.Labels{}
	for k, v := range in.Labels {
		labels[k] = v
	}
	if labels["alertname"] == "" {
		labels["alertname"] = "mcp"
	}
	sev := alert.Medium
	if in.Severity != "" {
		var err error
		if sev, err = alert.ParseSeverity(in.Severity); err != nil {
			return nil, nil, fmt.Errorf("severity: %w", err)
		}
	}
	res, err := t.b.Fire(ctx, lifecycle.Pushed{Labels: labels, Severity: sev, Summary: in.Summary, Description: in.Description})
	if err != nil {
		return nil, nil, err
	}
	return jsonResult(res)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
