package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
	"github.com/klaxonhq/klaxon/store"
)

// Backend is what the klaxon MCP tools act on: an embedded engine
// (EngineBackend) or a running klaxon's HTTP API (HTTPBackend). Errors for
// unknown alerts or channels wrap store.ErrNotFound.
type Backend interface {
	// Alerts lists alerts: open ones when f.States is empty.
	Alerts(ctx context.Context, f AlertFilter) ([]*alert.Alert, error)
	// Alert returns one alert by id or fingerprint.
	Alert(ctx context.Context, id string) (*alert.Alert, error)
	// Acknowledge acknowledges an open alert.
	Acknowledge(ctx context.Context, id, by, comment string) (*alert.Alert, error)
	// Resolve resolves an open alert by hand.
	Resolve(ctx context.Context, id, by string) (*alert.Alert, error)
	// Silence adds a silence.
	Silence(ctx context.Context, s *store.Silence) (*store.Silence, error)
	// Channels returns every channel's delivery health.
	Channels(ctx context.Context) ([]notify.ChannelHealth, error)
	// TestChannel sends a sample notification through one channel.
	TestChannel(ctx context.Context, name string) (notify.Receipt, error)
	// Fire pushes an alert evaluated elsewhere.
	Fire(ctx context.Context, p lifecycle.Pushed) (lifecycle.PushResult, error)
}

// AlertFilter selects alerts. Zero fields do not filter.
type AlertFilter struct {
	// States; "resolved" among them reads history.
	States   []alert.State
	Severity alert.Severity
	RuleID   string
	Limit    int
}

// EngineBackend serves the tools from an embedded engine.
type EngineBackend struct{ E *klaxon.Engine }

var _ Backend = EngineBackend{}

// Alerts implements Backend.
func (b EngineBackend) Alerts(ctx context.Context, f AlertFilter) ([]*alert.Alert, error) {
	if len(f.States) > 0 && slices.Contains(f.States, alert.StateResolved) {
		return b.E.Store().AlertList(ctx, &store.AlertListParams{States: f.States, Severity: f.Severity, RuleID: f.RuleID, Limit: f.Limit})
	}
	out := []*alert.Alert{}
	for _, a := range b.E.Manager().Open() {
		if (len(f.States) > 0 && !slices.Contains(f.States, a.State)) ||
			(f.Severity != 0 && a.Severity != f.Severity) || (f.RuleID != "" && a.RuleID != f.RuleID) {
			continue
		}
		out = append(out, a)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, nil
}

// Alert implements Backend.
func (b EngineBackend) Alert(ctx context.Context, id string) (*alert.Alert, error) {
	return b.E.Manager().Get(ctx, id)
}

// Acknowledge implements Backend.
func (b EngineBackend) Acknowledge(ctx context.Context, id, by, comment string) (*alert.Alert, error) {
	return b.E.Manager().Acknowledge(ctx, id, by, comment)
}

// Resolve implements Backend.
func (b EngineBackend) Resolve(ctx context.Context, id, by string) (*alert.Alert, error) {
	return b.E.Manager().Resolve(ctx, id, by, "")
}

// Silence implements Backend.
func (b EngineBackend) Silence(ctx context.Context, s *store.Silence) (*store.Silence, error) {
	return b.E.Manager().AddSilence(ctx, s)
}

// Channels implements Backend.
func (b EngineBackend) Channels(context.Context) ([]notify.ChannelHealth, error) {
	return b.E.Channels(), nil
}

// TestChannel implements Backend.
func (b EngineBackend) TestChannel(ctx context.Context, name string) (notify.Receipt, error) {
	return b.E.TestChannel(ctx, name)
}

// Fire implements Backend.
func (b EngineBackend) Fire(ctx context.Context, p lifecycle.Pushed) (lifecycle.PushResult, error) {
	res, err := b.E.Manager().Push(ctx, []lifecycle.Pushed{p})
	if err != nil {
		return lifecycle.PushResult{}, err
	}
	return res[0], nil
}

// ErrAPI is wrapped by HTTPBackend errors the API answered (4xx, 5xx).
var ErrAPI = errors.New("klaxon API error")

// APIError is an error answer of the klaxon HTTP API.
type APIError struct {
	Status  int
	Message string
	Field   string
}

// Error implements error.
func (e *APIError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("klaxon API: %d: %s (%s)", e.Status, e.Message, e.Field)
	}
	return fmt.Sprintf("klaxon API: %d: %s", e.Status, e.Message)
}

// Unwrap returns store.ErrNotFound for 404 and ErrAPI otherwise.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusNotFound {
		return store.ErrNotFound
	}
	return ErrAPI
}

// HTTPBackend serves the tools from a running klaxon over its HTTP API.
type HTTPBackend struct {
	// URL is the API's base URL, e.g. http://127.0.0.1:9095.
	URL string
	// Token is sent as a bearer token on every call when set.
	Token secret.String
	// Client defaults to one with a 30 s timeout.
	Client *http.Client
}

var _ Backend = (*HTTPBackend)(nil)

func (b *HTTPBackend) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(b.URL, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !b.Token.IsZero() {
		req.Header.Set("Authorization", "Bearer "+b.Token.Reveal())
	}
	c := b.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		// The token travels in a header, never in the URL the error echoes.
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error string `json:"error"`
			Field string `json:"field"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return &APIError{Status: resp.StatusCode, Message: e.Error, Field: e.Field}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Alerts implements Backend.
func (b *HTTPBackend) Alerts(ctx context.Context, f AlertFilter) ([]*alert.Alert, error) {
	q := url.Values{}
	if len(f.States) > 0 {
		s := make([]string, len(f.States))
		for i, st := range f.States {
			s[i] = string(st)
		}
		q.Set("state", strings.Join(s, ","))
	}
	if f.Severity != 0 {
		q.Set("severity", f.Severity.String())
	}
	if f.RuleID != "" {
		q.Set("rule", f.RuleID)
	}
	if f.Limit > 0 {
		q.Set("limit", fmt.Sprint(f.Limit))
	}
	var res struct {
		Alerts []*alert.Alert `json:"alerts"`
	}
	err := b.do(ctx, http.MethodGet, "/api/v1/alerts?"+q.Encode(), nil, &res)
	return res.Alerts, err
}

// Alert implements Backend.
func (b *HTTPBackend) Alert(ctx context.Context, id string) (*alert.Alert, error) {
	var a alert.Alert
	if err := b.do(ctx, http.MethodGet, "/api/v1/alerts/"+url.PathEscape(id), nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Acknowledge implements Backend.
func (b *HTTPBackend) Acknowledge(ctx context.Context, id, by, comment string) (*alert.Alert, error) {
	var a alert.Alert
	err := b.do(ctx, http.MethodPost, "/api/v1/alerts/"+url.PathEscape(id)+"/ack", map[string]string{"by": by, "comment": comment}, &a)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Resolve implements Backend.
func (b *HTTPBackend) Resolve(ctx context.Context, id, by string) (*alert.Alert, error) {
	var a alert.Alert
	if err := b.do(ctx, http.MethodPost, "/api/v1/alerts/"+url.PathEscape(id)+"/resolve", map[string]string{"by": by}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Silence implements Backend.
func (b *HTTPBackend) Silence(ctx context.Context, s *store.Silence) (*store.Silence, error) {
	type m struct {
		Name    string `json:"name"`
		Op      string `json:"op"`
		Value   string `json:"value"`
		IsRegex bool   `json:"is_regex"`
	}
	body := struct {
		Matchers  []m    `json:"matchers"`
		StartsAt  string `json:"starts_at,omitempty"`
		EndsAt    string `json:"ends_at"`
		CreatedBy string `json:"created_by"`
		Comment   string `json:"comment"`
	}{EndsAt: s.EndsAt.Format(time.RFC3339Nano), CreatedBy: s.CreatedBy, Comment: s.Comment}
	if !s.StartsAt.IsZero() {
		body.StartsAt = s.StartsAt.Format(time.RFC3339Nano)
	}
	for _, x := range s.Matchers {
		body.Matchers = append(body.Matchers, m{Name: x.Name, Op: string(x.Op), Value: x.Value})
	}
	var out store.Silence
	if err := b.do(ctx, http.MethodPost, "/api/v1/silences", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Channels implements Backend.
func (b *HTTPBackend) Channels(ctx context.Context) ([]notify.ChannelHealth, error) {
	var res struct {
		Channels []notify.ChannelHealth `json:"channels"`
	}
	err := b.do(ctx, http.MethodGet, "/api/v1/channels", nil, &res)
	return res.Channels, err
}

// TestChannel implements Backend.
func (b *HTTPBackend) TestChannel(ctx context.Context, name string) (notify.Receipt, error) {
	var r struct {
		StatusCode int    `json:"status_code"`
		Detail     string `json:"detail"`
	}
	err := b.do(ctx, http.MethodPost, "/api/v1/channels/"+url.PathEscape(name)+"/test", struct{}{}, &r)
	return notify.Receipt{StatusCode: r.StatusCode, Detail: r.Detail}, err
}

// Fire implements Backend.
func (b *HTTPBackend) Fire(ctx context.Context, p lifecycle.Pushed) (lifecycle.PushResult, error) {
	body := []map[string]any{{
		"labels": p.Labels, "severity": p.Severity.String(), "summary": p.Summary,
		"description": p.Description, "annotations": p.Annotations,
	}}
	var res struct {
		Alerts []lifecycle.PushResult `json:"alerts"`
	}
	if err := b.do(ctx, http.MethodPost, "/api/v1/alerts", body, &res); err != nil {
		return lifecycle.PushResult{}, err
	}
	if len(res.Alerts) == 0 {
		return lifecycle.PushResult{}, fmt.Errorf("%w: push answered no alert", ErrAPI)
	}
	return res.Alerts[0], nil
}
