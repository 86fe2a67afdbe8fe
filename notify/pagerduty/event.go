package pagerduty

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// ellipsis ends a cut string.
const ellipsis = "…"

// maxDetailRunes bounds each string in custom_details once an event had to
// be trimmed; maxFieldRunes bounds source, component, group and class in the
// last trimming stage; maxURLBytes bounds client_url there.
const (
	maxDetailRunes = 1024
	maxFieldRunes  = 255
	maxURLBytes    = 2048
)

// actionFor maps a notification event to an event_action; ok is false for
// events PagerDuty has no action for.
func actionFor(e notify.Event) (action string, ok bool) {
	switch {
	case e.Firing():
		return actionTrigger, true
	case e == notify.EventAcknowledged:
		return actionAcknowledge, true
	case e == notify.EventResolved:
		return actionResolve, true
	}
	return "", false
}

// dedupKey is the alert's fingerprint, so trigger, acknowledge and resolve
// address one PagerDuty alert. An alert without a fingerprint gets the one
// its rule and labels would have; a key over PagerDuty's 255 characters (not
// a klaxon fingerprint) is replaced by its SHA-256.
func dedupKey(a *alert.Alert) string {
	k := string(a.Fingerprint)
	if k == "" {
		k = string(alert.NewFingerprint(a.RuleID, a.Labels))
	}
	if len(k) > maxDedupKey {
		sum := sha256.Sum256([]byte(k))
		k = hex.EncodeToString(sum[:])
	}
	return k
}

// buildEvent builds the event for n.Alerts[i] without its routing key.
// Acknowledge and resolve events carry only event_action and dedup_key, as
// PagerDuty documents.
func (c *Channel) buildEvent(n *notify.Notification, i int, action string) *event {
	a := n.Alerts[i].Alert
	ev := &event{EventAction: action, DedupKey: dedupKey(a)}
	if action != actionTrigger {
		return ev
	}
	ev.Payload = &payload{
		Summary:       summaryOf(a),
		Source:        c.sourceOf(a),
		Severity:      c.severity(a.Severity),
		Timestamp:     c.timestampOf(n, a),
		Component:     firstNonEmpty(c.component, a.Labels["component"]),
		Group:         firstNonEmpty(c.group, a.Labels["group"]),
		Class:         firstNonEmpty(c.class, a.Labels["class"]),
		CustomDetails: customDetails(n.Event, a),
	}
	ev.Client = clientName
	if u := alertURL(n, i); u != "" {
		ev.ClientURL = u
		ev.Links = append(ev.Links, link{Href: u, Text: "Alert in klaxon"})
	}
	if rb := strings.TrimSpace(a.Annotations["runbook_url"]); rb != "" && isWebURL(rb) {
		ev.Links = append(ev.Links, link{Href: rb, Text: "Runbook"})
	}
	return ev
}

// summaryOf is the alert's summary (else its rule's name or id), cut to
// PagerDuty's 1,024 characters.
func summaryOf(a *alert.Alert) string {
	s := firstNonEmpty(a.Summary, a.RuleName, a.RuleID)
	if s == "" {
		s = "klaxon alert " + string(a.Fingerprint)
	}
	return truncate(s, maxSummaryRunes)
}

// truncate returns s as valid UTF-8 of at most n runes (n >= 1). A longer s
// is cut at a rune boundary and ends with an ellipsis, which counts toward n.
func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + ellipsis
		}
		count++
	}
	return s
}

// sourceOf is payload.source: the configured source, else the alert's
// metadata server or source, else this host's name.
func (c *Channel) sourceOf(a *alert.Alert) string {
	return firstNonEmpty(c.source, a.Metadata["server"], a.Metadata["source"], c.hostname)
}

// severity maps a klaxon severity through the channel's map; an invalid
// severity is treated as critical, so nothing that pages is downgraded.
func (c *Channel) severity(s alert.Severity) string {
	if v, ok := c.severities[s]; ok {
		return v
	}
	return c.severities[alert.Critical]
}

// timestampOf is when the alert became active for a first notification, and
// when it was last updated for a repeat (renotify, escalation, test), in
// RFC 3339 with the source's precision.
func (c *Channel) timestampOf(n *notify.Notification, a *alert.Alert) string {
	var t time.Time
	if n.Event == notify.EventActive {
		switch {
		case a.ActiveAt != nil && !a.ActiveAt.IsZero():
			t = *a.ActiveAt
		case !a.StartedAt.IsZero():
			t = a.StartedAt
		}
	}
	for _, alt := range []time.Time{a.UpdatedAt, a.StartedAt, n.CreatedAt} {
		if t.IsZero() {
			t = alt
		}
	}
	if t.IsZero() {
		t = c.now()
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// customDetails is payload.custom_details: what a responder needs that the
// other fields do not say.
func customDetails(e notify.Event, a *alert.Alert) map[string]any {
	d := map[string]any{
		"alert_id":    a.ID,
		"fingerprint": string(a.Fingerprint),
		"state":       string(a.State),
		"severity":    a.Severity.String(),
		"event":       string(e),
		"value":       number(a.Value),
	}
	if a.Threshold != nil {
		d["threshold"] = number(*a.Threshold)
	}
	if a.RuleID != "" {
		d["rule_id"] = a.RuleID
	}
	if a.Description != "" {
		d["description"] = a.Description
	}
	if len(a.Labels) > 0 {
		d["labels"] = map[string]string(a.Labels)
	}
	if len(a.Annotations) > 0 {
		d["annotations"] = a.Annotations
	}
	if !a.StartedAt.IsZero() {
		d["started_at"] = a.StartedAt.UTC().Format(time.RFC3339Nano)
	}
	return d
}

// number keeps finite values numeric and spells NaN and infinities, which
// JSON cannot encode.
func number(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return v
}

// alertURL is the dashboard link of n.Alerts[i]. n.ExternalURL links to the
// primary alert; for the others of a group, a URL ending in the primary's id
// is pointed at theirs, any other URL is not reused.
func alertURL(n *notify.Notification, i int) string {
	u := n.ExternalURL
	if u == "" || !isWebURL(u) {
		return ""
	}
	if i == 0 {
		return u
	}
	lead, id := n.Alerts[0].ID, n.Alerts[i].ID
	if lead == "" || id == "" || !strings.HasSuffix(u, "/"+lead) {
		return ""
	}
	return strings.TrimSuffix(u, lead) + url.PathEscape(id)
}

// isWebURL reports whether s is an absolute http or https URL, as links and
// client_url must be.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// encode marshals ev and keeps it under PagerDuty's 512 KB limit by trimming
// custom_details, in stages, so an event is never refused for its size:
//  1. every string in custom_details is cut to 1,024 characters;
//  2. custom_details keeps only the alert's identity, state and value;
//  3. source, component, group and class are cut to 255 characters, links
//     are dropped and a long client_url is dropped.
//
// A trimmed event's custom_details says so under "klaxon_trimmed". trimmed
// reports the stage used (0: none). ev is modified when trimming.
func encode(ev *event) (body []byte, trimmed int, err error) {
	body, err = json.Marshal(ev)
	if err != nil || len(body) <= maxEventSize || ev.Payload == nil {
		return body, 0, err
	}
	size := len(body)
	p := ev.Payload
	full := p.CustomDetails
	note := func(what string) string {
		return fmt.Sprintf("the event was %d bytes, over PagerDuty's %d-byte limit: %s", size, maxEventSize, what)
	}
	for stage := 1; stage <= 3; stage++ {
		switch stage {
		case 1:
			p.CustomDetails = cutDetails(full).(map[string]any)
			p.CustomDetails["klaxon_trimmed"] = note(fmt.Sprintf("every custom_details value was cut to %d characters", maxDetailRunes))
		case 2:
			small := map[string]any{}
			for _, k := range []string{"alert_id", "fingerprint", "rule_id", "state", "severity", "event", "value", "threshold", "started_at"} {
				if v, ok := full[k]; ok {
					small[k] = cutDetails(v)
				}
			}
			small["klaxon_trimmed"] = note("custom_details was reduced to the alert's identity, state and value")
			p.CustomDetails = small
		case 3:
			p.Source = truncate(p.Source, maxFieldRunes)
			p.Component = truncate(p.Component, maxFieldRunes)
			p.Group = truncate(p.Group, maxFieldRunes)
			p.Class = truncate(p.Class, maxFieldRunes)
			ev.Links = nil
			if len(ev.ClientURL) > maxURLBytes {
				ev.ClientURL = ""
			}
		}
		body, err = json.Marshal(ev)
		if err != nil || len(body) <= maxEventSize {
			return body, stage, err
		}
	}
	return body, 3, nil
}

// cutDetails returns a copy of v with every string (map values and keys,
// slice elements) cut to maxDetailRunes characters.
func cutDetails(v any) any {
	switch v := v.(type) {
	case string:
		return truncate(v, maxDetailRunes)
	case map[string]string:
		out := make(map[string]string, len(v))
		for k, s := range v {
			out[truncate(k, maxDetailRunes)] = truncate(s, maxDetailRunes)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[truncate(k, maxDetailRunes)] = cutDetails(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cutDetails(x)
		}
		return out
	}
	return v
}
