// Package alert defines the vocabulary every other klaxon package speaks:
// severities, lifecycle states, labels and their fingerprints, matchers, the
// Alert itself and the Transitions that move it between states.
package alert

import "time"

// Alert is one instance of a rule (or of an alert pushed from outside),
// identified by its Fingerprint while it is open. The JSON field names are part
// of klaxon's public contract (API, webhook payload, dashboard).
type Alert struct {
	// ID is unique per alert instance: an alert that resolves and fires again
	// gets a new ID with the same Fingerprint.
	ID          string      `json:"id"`
	Fingerprint Fingerprint `json:"fingerprint"`
	// RuleID is empty for alerts pushed over the API.
	RuleID string `json:"rule_id"`
	// RuleName is the rule's display name (its id when it has none).
	RuleName    string            `json:"rule_name,omitempty"`
	State       State             `json:"state"`
	Severity    Severity          `json:"severity"`
	Summary     string            `json:"summary"`
	Description string            `json:"description"`
	Labels      Labels            `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// Value is the metric value that last decided the alert's state.
	Value float64 `json:"value"`
	// Threshold is the rule's threshold, when the condition has one.
	Threshold *float64 `json:"threshold"`
	// Source names where the alert came from: "rule" or "api".
	Source string `json:"source,omitempty"`
	// Metadata is provider metadata and other free-form context.
	Metadata map[string]string `json:"metadata,omitempty"`

	StartedAt      time.Time  `json:"started_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ActiveAt       *time.Time `json:"active_at,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	AcknowledgedBy string     `json:"acknowledged_by"`
	AckComment     string     `json:"ack_comment,omitempty"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	// EndsAt is when a pushed alert resolves by itself unless posted again.
	EndsAt *time.Time `json:"ends_at,omitempty"`
	// SilencedBy is the id of the silence that suppresses the alert.
	SilencedBy string `json:"silenced_by,omitempty"`
	// LastNotifiedAt is when the alert last produced a firing notification
	// (first fire, renotify); repeat_interval counts from it.
	LastNotifiedAt *time.Time `json:"last_notified_at,omitempty"`
	// Channels lists the channels that were told the alert fired (route
	// channels and escalation steps); its resolution goes to all of them.
	Channels []string `json:"channels,omitempty"`
	// EscalationLevel counts the escalation steps already taken.
	EscalationLevel int `json:"escalation_level,omitempty"`
	// Sequence is the number of the alert's latest transition (1 for the
	// first). It only grows.
	Sequence int64 `json:"sequence"`
}

// Clone returns a deep copy, so a snapshot can be kept while the original
// moves on.
func (a *Alert) Clone() *Alert {
	c := *a
	c.Labels = a.Labels.Clone()
	if a.Annotations != nil {
		c.Annotations = make(map[string]string, len(a.Annotations))
		for k, v := range a.Annotations {
			c.Annotations[k] = v
		}
	}
	if a.Metadata != nil {
		c.Metadata = make(map[string]string, len(a.Metadata))
		for k, v := range a.Metadata {
			c.Metadata[k] = v
		}
	}
	c.Channels = append([]string(nil), a.Channels...)
	c.Threshold = clonePtr(a.Threshold)
	c.ActiveAt = clonePtr(a.ActiveAt)
	c.AcknowledgedAt = clonePtr(a.AcknowledgedAt)
	c.ResolvedAt = clonePtr(a.ResolvedAt)
	c.EndsAt = clonePtr(a.EndsAt)
	c.LastNotifiedAt = clonePtr(a.LastNotifiedAt)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Transition is one change of an alert's state. Sequence numbers start at 1
// for each alert and grow by one per transition, so (alert, sequence) names a
// transition and (alert, sequence, channel) a notification.
type Transition struct {
	AlertID     string      `json:"alert_id"`
	Fingerprint Fingerprint `json:"fingerprint"`
	Sequence    int64       `json:"sequence"`
	From        State       `json:"from"` // empty for the first transition
	To          State       `json:"to"`
	At          time.Time   `json:"at"`
	// Kind says why the transition happened when the state alone does not:
	// "renotify" and "escalate" keep the state, "ended" marks a pushed alert
	// whose end time passed.
	Kind string `json:"kind,omitempty"`
	// By is who caused it: an operator name, "evaluator", "api", "silence".
	By      string  `json:"by,omitempty"`
	Comment string  `json:"comment,omitempty"`
	Value   float64 `json:"value"`
}

// Transition kinds beyond a plain state change.
const (
	KindRenotify = "renotify"
	KindEscalate = "escalate"
	KindEnded    = "ended"
)
