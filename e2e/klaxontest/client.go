package klaxontest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// APIError is a non-2xx answer of klaxon's API.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Body is the answer's body.
	Body string
}

// Error names the status and the body.
func (e *APIError) Error() string { return fmt.Sprintf("klaxon api: %d: %s", e.Status, e.Body) }

// Client calls klaxon's HTTP API.
type Client struct {
	// URL is the base URL ("http://127.0.0.1:9095").
	URL string
	// HTTP is the client used; default: one with a 30s timeout.
	HTTP *http.Client
}

// NewClient returns a client of the API at base.
func NewClient(base string) *Client {
	return &Client{URL: base, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Do sends in (when not nil) as JSON and decodes the answer into out (when
// not nil). A non-2xx answer is an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var rd io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &APIError{Status: resp.StatusCode, Body: string(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// PushAlert is one element of POST /api/v1/alerts.
type PushAlert struct {
	Labels   map[string]string `json:"labels"`
	Severity string            `json:"severity,omitempty"`
	Summary  string            `json:"summary,omitempty"`
	Status   string            `json:"status,omitempty"`
	EndsAt   *time.Time        `json:"ends_at,omitempty"`
}

// APIAlert is an alert as the API shows it (the fields the tests use).
type APIAlert struct {
	ID             string            `json:"id"`
	Fingerprint    string            `json:"fingerprint"`
	RuleID         string            `json:"rule_id"`
	State          string            `json:"state"`
	Severity       string            `json:"severity"`
	Summary        string            `json:"summary"`
	Labels         map[string]string `json:"labels"`
	Value          float64           `json:"value"`
	AcknowledgedBy string            `json:"acknowledged_by"`
	Sequence       int64             `json:"sequence"`
}

// PushAlerts posts alerts and returns what the API answered for each.
func (c *Client) PushAlerts(ctx context.Context, alerts []PushAlert) ([]APIAlert, error) {
	var out struct {
		Alerts []APIAlert `json:"alerts"`
	}
	err := c.Do(ctx, http.MethodPost, "/api/v1/alerts", alerts, &out)
	return out.Alerts, err
}

// Alerts lists alerts; query is the raw query string ("state=all") or "".
func (c *Client) Alerts(ctx context.Context, query string) ([]APIAlert, error) {
	var out struct {
		Alerts []APIAlert `json:"alerts"`
	}
	path := "/api/v1/alerts"
	if query != "" {
		path += "?" + query
	}
	err := c.Do(ctx, http.MethodGet, path, nil, &out)
	return out.Alerts, err
}

// Ack acknowledges the alert id (or fingerprint) as by.
func (c *Client) Ack(ctx context.Context, id, by string) (APIAlert, error) {
	var out APIAlert
	err := c.Do(ctx, http.MethodPost, "/api/v1/alerts/"+url.PathEscape(id)+"/ack", map[string]string{"by": by}, &out)
	return out, err
}

// Sample is one element of POST /api/v1/metrics.
type Sample struct {
	Name   string            `json:"name"`
	Value  float64           `json:"value"`
	Labels map[string]string `json:"labels,omitempty"`
}

// PushMetrics posts metric samples.
func (c *Client) PushMetrics(ctx context.Context, samples []Sample) error {
	return c.Do(ctx, http.MethodPost, "/api/v1/metrics", samples, nil)
}

// LogEntry is one row of the delivery log.
type LogEntry struct {
	AlertID string `json:"alert_id"`
	Channel string `json:"channel"`
	Event   string `json:"event"`
	Attempt int    `json:"attempt"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
	Detail  string `json:"detail"`
}

// Deliveries reads the delivery log of one alert (alertID may be "").
func (c *Client) Deliveries(ctx context.Context, alertID, channel string) ([]LogEntry, error) {
	var out struct {
		Deliveries []LogEntry `json:"deliveries"`
	}
	q := url.Values{}
	if alertID != "" {
		q.Set("alert", alertID)
	}
	if channel != "" {
		q.Set("channel", channel)
	}
	err := c.Do(ctx, http.MethodGet, "/api/v1/deliveries?"+q.Encode(), nil, &out)
	return out.Deliveries, err
}

// SilenceMatcher is one matcher of a silence.
type SilenceMatcher struct {
	Name  string `json:"name"`
	Op    string `json:"op,omitempty"`
	Value string `json:"value"`
}

// Silence is a silence as the API shows it (the fields the tests use).
type Silence struct {
	ID        string    `json:"id"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
}

// AddSilence creates a silence lasting d.
func (c *Client) AddSilence(ctx context.Context, matchers []SilenceMatcher, d time.Duration, by, comment string) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.Do(ctx, http.MethodPost, "/api/v1/silences", map[string]any{
		"matchers": matchers, "duration": d.String(), "created_by": by, "comment": comment,
	}, &out)
	return out, err
}

// Silences lists the silences in force, raw.
func (c *Client) Silences(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.Do(ctx, http.MethodGet, "/api/v1/silences", nil, &out)
	return out, err
}
