package webhook

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/internal/jsonenc"
	"github.com/klaxonhq/klaxon/notify"
)

// maxTemplateOutput bounds what body_template may produce; a template that
// writes more fails and the default body is sent.
const maxTemplateOutput = 1 << 20

// Alert statuses in bodies, as Alertmanager names them.
const (
	statusFiring   = "firing"
	statusResolved = "resolved"
)

// errTemplateOutput is returned when body_template writes too much.
var errTemplateOutput = fmt.Errorf("output exceeds %d bytes", maxTemplateOutput)

// templateFuncs are the functions body_template may call.
var templateFuncs = template.FuncMap{
	// json renders any value as compact JSON: {{ json .Alert.Labels }}.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	// rfc3339 formats a time in UTC: {{ rfc3339 .CreatedAt }}.
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"upper":   strings.ToUpper,
	"lower":   strings.ToLower,
	"join":    strings.Join,
}

// parseBodyTemplate parses a body_template.
func parseBodyTemplate(text string) (*template.Template, error) {
	return template.New("body_template").Option("missingkey=error").Funcs(templateFuncs).Parse(text)
}

// alertStatus is "resolved" for a resolved alert, else "firing".
func alertStatus(s alert.State) string {
	if s == alert.StateResolved {
		return statusResolved
	}
	return statusFiring
}

// groupStatus is "firing" when any alert fires, as Alertmanager defines it.
func groupStatus(n *notify.Notification) string {
	for i := range n.Alerts {
		if n.Alerts[i].State != alert.StateResolved {
			return statusFiring
		}
	}
	return statusResolved
}

// groupKey is the notification's group key, or the primary alert's
// fingerprint when the route does not group, so receivers can always
// correlate on it.
func groupKey(n *notify.Notification) string {
	if n.GroupKey != "" {
		return n.GroupKey
	}
	return string(n.Alerts[0].Fingerprint)
}

// klaxonPayload builds the default body. now is used only when the
// notification has no creation time.
func klaxonPayload(n *notify.Notification, id string, now time.Time) *klaxonBody {
	ts := n.CreatedAt
	if ts.IsZero() {
		ts = now
	}
	return &klaxonBody{
		Type:           n.Event,
		Timestamp:      ts.UTC(),
		IdempotencyKey: id,
		GroupKey:       groupKey(n),
		Status:         groupStatus(n),
		Channel:        n.Channel,
		ExternalURL:    n.ExternalURL,
		Alerts:         normalize(n.Alerts),
	}
}

// normalize returns alerts ready for JSON: nil label and annotation maps
// become empty objects and non-finite numbers (which JSON cannot carry)
// become 0 and null. It copies only when something changes.
func normalize(alerts []notify.AlertEvent) []notify.AlertEvent {
	bad := func(a *notify.AlertEvent) bool {
		return a.Labels == nil || a.Annotations == nil || !finite(a.Value) ||
			a.Threshold != nil && !finite(*a.Threshold)
	}
	if !slices.ContainsFunc(alerts, func(a notify.AlertEvent) bool { return bad(&a) }) {
		return alerts
	}
	out := slices.Clone(alerts)
	for i := range out {
		// The alerts are shared with the dispatcher: change a copy.
		cp := *out[i].Alert
		out[i].Alert = &cp
		a := &out[i]
		if a.Labels == nil {
			a.Labels = alert.Labels{}
		}
		if a.Annotations == nil {
			a.Annotations = map[string]string{}
		}
		if !finite(a.Value) {
			a.Value = 0
		}
		if a.Threshold != nil && !finite(*a.Threshold) {
			a.Threshold = nil
		}
	}
	return out
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// alertmanagerPayload builds Alertmanager's version-4 body. Each alert's
// labels gain "alertname" (the rule id, else its name) and "severity" when
// they lack them, and its annotations gain "summary" and "description", so
// Alertmanager templates find what they expect.
func alertmanagerPayload(n *notify.Notification) *amMessage {
	msg := &amMessage{
		Version:     "4",
		GroupKey:    groupKey(n),
		Status:      groupStatus(n),
		Receiver:    n.Channel,
		ExternalURL: n.ExternalURL,
		Alerts:      make([]amAlert, 0, len(n.Alerts)),
	}
	for i := range n.Alerts {
		a := n.Alerts[i].Alert
		labels := maps.Clone(map[string]string(a.Labels))
		if labels == nil {
			labels = map[string]string{}
		}
		if _, ok := labels["alertname"]; !ok {
			if name := cmp.Or(a.RuleID, a.RuleName); name != "" {
				labels["alertname"] = name
			}
		}
		if _, ok := labels["severity"]; !ok && a.Severity.Valid() {
			labels["severity"] = a.Severity.String()
		}
		annotations := maps.Clone(a.Annotations)
		if annotations == nil {
			annotations = map[string]string{}
		}
		if _, ok := annotations["summary"]; !ok && a.Summary != "" {
			annotations["summary"] = a.Summary
		}
		if _, ok := annotations["description"]; !ok && a.Description != "" {
			annotations["description"] = a.Description
		}
		starts := a.StartedAt
		if a.ActiveAt != nil {
			starts = *a.ActiveAt
		}
		var ends time.Time
		switch {
		case a.State == alert.StateResolved && a.ResolvedAt != nil:
			ends = *a.ResolvedAt
		case a.EndsAt != nil:
			ends = *a.EndsAt
		}
		msg.Alerts = append(msg.Alerts, amAlert{
			Status:       alertStatus(a.State),
			Labels:       labels,
			Annotations:  annotations,
			StartsAt:     starts.UTC(),
			EndsAt:       ends.UTC(),
			GeneratorURL: n.ExternalURL,
			Fingerprint:  string(a.Fingerprint),
		})
	}
	msg.CommonLabels = common(msg.Alerts, func(a *amAlert) map[string]string { return a.Labels })
	msg.CommonAnnotations = common(msg.Alerts, func(a *amAlert) map[string]string { return a.Annotations })
	// klaxon does not hand route group_by labels to channels; the labels
	// every alert shares are the closest equivalent.
	msg.GroupLabels = maps.Clone(msg.CommonLabels)
	return msg
}

// common returns the pairs present, with equal values, in every alert.
func common(alerts []amAlert, get func(*amAlert) map[string]string) map[string]string {
	out := map[string]string{}
	if len(alerts) == 0 {
		return out
	}
	maps.Copy(out, get(&alerts[0]))
	for i := 1; i < len(alerts); i++ {
		m := get(&alerts[i])
		for k, v := range out {
			if w, ok := m[k]; !ok || w != v {
				delete(out, k)
			}
		}
	}
	return out
}

// defaultBody encodes the configured format's body. The klaxon body, sent
// for every notification, is encoded by hand (see appendKlaxonBody); the
// Alertmanager one by encoding/json.
func (c *Channel) defaultBody(n *notify.Notification, id string, now time.Time) ([]byte, error) {
	var b []byte
	var err error
	if c.format == FormatAlertmanager {
		b, err = json.Marshal(alertmanagerPayload(n))
	} else {
		b, err = appendKlaxonBody(make([]byte, 0, 512+1024*len(n.Alerts)), klaxonPayload(n, id, now))
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s body: %w", c.format, err)
	}
	return b, nil
}

// appendKlaxonBody appends exactly the bytes json.Marshal(p) produces,
// without reflection (TestAppendKlaxonBody_MatchesEncodingJSON compares
// them). klaxonBody's fields must be mirrored here in declaration order.
func appendKlaxonBody(dst []byte, p *klaxonBody) ([]byte, error) {
	b := append(dst, `{"type":`...)
	b = jsonenc.AppendString(b, string(p.Type))
	b = append(b, `,"timestamp":`...)
	b, err := jsonenc.AppendTime(b, p.Timestamp)
	if err != nil {
		return dst, err
	}
	b = append(b, `,"idempotency_key":`...)
	b = jsonenc.AppendString(b, p.IdempotencyKey)
	b = append(b, `,"group_key":`...)
	b = jsonenc.AppendString(b, p.GroupKey)
	b = append(b, `,"status":`...)
	b = jsonenc.AppendString(b, p.Status)
	b = append(b, `,"channel":`...)
	b = jsonenc.AppendString(b, p.Channel)
	if p.ExternalURL != "" {
		b = append(b, `,"external_url":`...)
		b = jsonenc.AppendString(b, p.ExternalURL)
	}
	b = append(b, `,"alerts":`...)
	if p.Alerts == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range p.Alerts {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = p.Alerts[i].AppendJSON(b); err != nil {
				return dst, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// limitedBuffer fails writes beyond maxTemplateOutput.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxTemplateOutput {
		return 0, errTemplateOutput
	}
	return b.Buffer.Write(p)
}

// renderTemplate executes body_template. Output that is only white space
// counts as a failure.
func (c *Channel) renderTemplate(n *notify.Notification, id string, now time.Time) ([]byte, error) {
	var payload any
	if c.format == FormatAlertmanager {
		payload = alertmanagerPayload(n)
	} else {
		payload = klaxonPayload(n, id, now)
	}
	data := &templateData{Notification: n, Status: groupStatus(n), GroupKey: groupKey(n), Payload: payload}
	var buf limitedBuffer
	if err := c.tmpl.Execute(&buf, data); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return nil, errors.New("output is empty")
	}
	return buf.Bytes(), nil
}
