package slack

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// Attachment colours. Firing alerts use their severity's colour (the seed's
// table); resolved alerts turn green.
const (
	ColorCritical = "#FF0000"
	ColorHigh     = "#FF8C00"
	ColorMedium   = "#FFD700"
	ColorLow      = "#32CD32"
	ColorInfo     = "#87CEEB"
	ColorResolved = "#2EB67D"
)

// maxAlertAttachments caps the attachments of a grouped notification (Slack
// allows 100); the rest are counted in one closing attachment.
const maxAlertAttachments = 20

// maxTextRunes caps free text (summary, description) per attachment; Slack
// truncates message text at 40,000 characters and rejects longer payloads.
const maxTextRunes = 3000

// SeverityColor returns the attachment colour of a firing alert of severity s.
func SeverityColor(s alert.Severity) string {
	switch s {
	case alert.Critical:
		return ColorCritical
	case alert.High:
		return ColorHigh
	case alert.Medium:
		return ColorMedium
	case alert.Low:
		return ColorLow
	default:
		return ColorInfo
	}
}

// message is what one notification renders to.
type message struct {
	// text is the top-level text: the push notification and screen-reader
	// fallback, always sent.
	text        string
	attachments []slack.Attachment
	// reply is the thread reply announcing the transition (Web API mode,
	// later notifications).
	reply    string
	metadata slack.SlackMetadata
}

// buildMessage renders n. now is used only when the notification carries no
// time.
func buildMessage(n *notify.Notification, now time.Time) message {
	at := n.CreatedAt
	if at.IsZero() {
		at = now
	}
	primary := n.Alert()
	m := message{
		text:  notificationText(n),
		reply: replyText(n, at),
		metadata: slack.SlackMetadata{
			EventType: "klaxon_alert",
			EventPayload: map[string]any{
				"fingerprint":     string(primary.Fingerprint),
				"idempotency_key": n.IdempotencyKey,
				"state":           string(primary.State),
			},
		},
	}
	shown := n.Alerts
	if len(shown) > maxAlertAttachments {
		shown = shown[:maxAlertAttachments]
	}
	for i := range shown {
		link := ""
		if i == 0 {
			link = n.ExternalURL
		}
		m.attachments = append(m.attachments, alertAttachment(shown[i].Alert, link, at))
	}
	if rest := len(n.Alerts) - len(shown); rest > 0 {
		more := fmt.Sprintf("… and %d more alerts", rest)
		m.attachments = append(m.attachments, slack.Attachment{Fallback: more, Text: more})
	}
	return m
}

// ruleName is the alert's display name.
func ruleName(a *alert.Alert) string {
	for _, s := range []string{a.RuleName, a.RuleID, a.Labels["alertname"], a.Summary} {
		if s != "" {
			return s
		}
	}
	return string(a.Fingerprint)
}

// statePrefix is the bracketed state shown before titles, "" for firing.
func statePrefix(a *alert.Alert) string {
	switch a.State {
	case alert.StateResolved:
		return "[RESOLVED] "
	case alert.StateAcknowledged:
		return "[ACKNOWLEDGED] "
	case alert.StateSuppressed:
		return "[SILENCED] "
	}
	return ""
}

// title is "Alert: RULE NAME" with the state in front when not firing.
func title(a *alert.Alert) string { return statePrefix(a) + "Alert: " + ruleName(a) }

// color is the attachment colour for a's current state.
func color(a *alert.Alert) string {
	if a.State == alert.StateResolved {
		return ColorResolved
	}
	return SeverityColor(a.Severity)
}

func alertAttachment(a *alert.Alert, link string, at time.Time) slack.Attachment {
	t := title(a)
	var text []string
	if a.Summary != "" {
		text = append(text, escape(truncate(a.Summary, maxTextRunes)))
	}
	if a.Description != "" && a.Description != a.Summary {
		text = append(text, escape(truncate(a.Description, maxTextRunes)))
	}
	fields := []slack.AttachmentField{
		{Title: "Severity", Value: a.Severity.String(), Short: true},
		{Title: "State", Value: string(a.State), Short: true},
	}
	if server := a.Metadata["server"]; server != "" {
		fields = append(fields, slack.AttachmentField{Title: "Server", Value: escape(server), Short: true})
	}
	if a.Source != "" {
		fields = append(fields, slack.AttachmentField{Title: "Source", Value: escape(a.Source), Short: true})
	}
	value := formatFloat(a.Value)
	if a.Threshold != nil {
		value += " (threshold " + formatFloat(*a.Threshold) + ")"
	}
	fields = append(fields, slack.AttachmentField{Title: "Value", Value: value, Short: true})
	if a.AcknowledgedBy != "" {
		by := escape(a.AcknowledgedBy)
		if a.AckComment != "" {
			by += ": " + escape(truncate(a.AckComment, 500))
		}
		fields = append(fields, slack.AttachmentField{Title: "Acknowledged by", Value: by, Short: true})
	}
	if len(a.Labels) > 0 {
		fields = append(fields, slack.AttachmentField{Title: "Labels", Value: escape(labelString(a.Labels)), Short: false})
	}
	return slack.Attachment{
		Color:      color(a),
		Fallback:   plainLine(a),
		Title:      t,
		TitleLink:  link,
		Text:       strings.Join(text, "\n"),
		Fields:     fields,
		MarkdownIn: []string{"text"},
		Footer:     "klaxon · " + string(a.Fingerprint),
		Ts:         json.Number(slackTS(at)),
	}
}

// notificationText is the top-level "text" of the message: one line that
// reads well in a push notification.
func notificationText(n *notify.Notification) string {
	a := n.Alert()
	var b strings.Builder
	switch a.State {
	case alert.StateResolved:
		b.WriteString("[RESOLVED] ")
	case alert.StateAcknowledged:
		b.WriteString("[ACKNOWLEDGED")
		if a.AcknowledgedBy != "" {
			b.WriteString(" by ")
			b.WriteString(escape(a.AcknowledgedBy))
		}
		b.WriteString("] ")
	default:
		b.WriteString("[" + strings.ToUpper(a.Severity.String()) + "] ")
	}
	b.WriteString("Alert: ")
	b.WriteString(escape(ruleName(a)))
	if a.Summary != "" {
		b.WriteString(" - ")
		b.WriteString(escape(truncate(a.Summary, 300)))
	}
	if len(n.Alerts) > 1 {
		fmt.Fprintf(&b, " (+%d more)", len(n.Alerts)-1)
	}
	return b.String()
}

// plainLine is an attachment's fallback: unformatted, for clients that
// cannot show attachments.
func plainLine(a *alert.Alert) string {
	s := title(a) + " (" + a.Severity.String() + ")"
	if a.Summary != "" {
		s += ": " + truncate(a.Summary, 300)
	}
	return s
}

// replyText announces a transition in the message's thread.
func replyText(n *notify.Notification, at time.Time) string {
	a := n.Alert()
	var s string
	switch {
	case n.Event == notify.EventResolved || a.State == alert.StateResolved:
		s = ":white_check_mark: *Resolved*"
	case n.Event == notify.EventAcknowledged || a.State == alert.StateAcknowledged:
		s = ":eyes: *Acknowledged*"
		if a.AcknowledgedBy != "" {
			s += " by " + escape(a.AcknowledgedBy)
		}
		if a.AckComment != "" {
			s += ": " + escape(truncate(a.AckComment, 500))
		}
	case n.Event == notify.EventEscalated:
		s = ":rotating_light: *Escalated*: still not acknowledged"
	case n.Event == notify.EventRenotify:
		s = ":bell: *Still firing*"
	default:
		s = ":rotating_light: *Firing*"
	}
	if len(n.Alerts) > 1 {
		s += fmt.Sprintf(" (%d alerts)", len(n.Alerts))
	}
	return s + " at " + at.UTC().Format(time.RFC3339)
}

func labelString(l alert.Labels) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ", ")
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// slackTS renders t as an attachment ts: Unix seconds.
func slackTS(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// escape makes user text safe in Slack mrkdwn: only &, < and > are special
// (https://api.slack.com/reference/surfaces/formatting#escaping).
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
