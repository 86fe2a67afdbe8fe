package email

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"maps"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// Limits of rendered header text.
const (
	// maxSubjectName caps the rule name in the subject, in runes.
	maxSubjectName = 150
	// maxReferences caps the msg-ids kept in a thread (and so in the
	// References header): the first and the most recent ones.
	maxReferences = 10
	// maxMsgIDLen caps one msg-id read back from a stored thread.
	maxMsgIDLen = 250
)

// fallbackDomain is the Message-ID domain when the From address has none
// usable.
const fallbackDomain = "klaxon.localhost"

// Subject returns the subject of a mail about a: "[SEVERITY] Alert: NAME",
// where NAME is the rule's name, else its id, else the alert's summary (for
// pushed alerts). Control characters (CR, LF, ...) become spaces, runs of
// spaces collapse, and a long name is cut with "…". The result is plain
// UTF-8; go-mail RFC 2047-encodes it when it is not ASCII.
func Subject(a *alert.Alert) string {
	name := cmpOr(a.RuleName, a.RuleID, a.Summary, "alert "+string(a.Fingerprint))
	sev := strings.ToUpper(a.Severity.String())
	if !a.Severity.Valid() {
		sev = "ALERT"
	}
	return "[" + sev + "] Alert: " + cleanHeaderText(name, maxSubjectName)
}

// subjectFor is Subject for the primary alert, behind "Re: " when the
// notification continues a thread, so mail clients group the mails.
func subjectFor(n *notify.Notification) string {
	s := Subject(n.Alert())
	if n.Thread != "" {
		return "Re: " + s
	}
	return s
}

// cleanHeaderText makes s safe for a one-line header: no control or
// line-separator characters, no runs of spaces, at most limit runes.
// Invalid UTF-8 becomes U+FFFD.
func cleanHeaderText(s string, limit int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' ||
			unicode.Is(unicode.Cf, r) {
			space = true
			continue
		}
		if n >= limit {
			b.WriteString("…")
			return strings.TrimSpace(b.String())
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// setSubject sets the Subject header. go-mail Q-encodes non-ASCII text
// itself, but leaves ASCII alone, so a literal "=?...?=" in an alert's name
// would be decoded by mail readers as an encoded-word: such subjects are
// B-encoded here, every word of them.
func setSubject(m *gomail.Msg, s string) {
	if !strings.Contains(s, "=?") {
		m.Subject(s)
		return
	}
	m.SetGenHeaderPreformatted(gomail.HeaderSubject, encodeWords(s))
}

// encodeWords encodes s as RFC 2047 B encoded-words of at most 75
// characters each (never splitting a character), folded onto continuation
// lines.
func encodeWords(s string) string {
	const maxChunk = 45 // base64 of 45 bytes is 60 characters; plus "=?UTF-8?B?" and "?=", 72
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxChunk {
				break
			}
			n += size
		}
		if b.Len() > 0 {
			b.WriteString("\r\n ")
		}
		b.WriteString("=?UTF-8?B?")
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s[:n])))
		b.WriteString("?=")
		s = s[n:]
	}
	return b.String()
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// newMessageID returns a fresh msg-id, with angle brackets:
// <fingerprint.sequence.random@domain>.
func newMessageID(a *alert.Alert, domain string) string {
	var buf [8]byte
	_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+).
	fp := idAtom(string(a.Fingerprint), 64)
	if fp == "" {
		fp = "alert"
	}
	return "<" + fp + "." + strconv.FormatInt(a.Sequence, 10) + "." + hex.EncodeToString(buf[:]) + "@" + domain + ">"
}

// idAtom keeps the characters of s that are safe in a msg-id's left side.
func idAtom(s string, limit int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < limit; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// messageIDDomain returns the right-hand side for msg-ids: the domain of
// the From address when it is a plain DNS name, else fallbackDomain.
func messageIDDomain(from *mail.Address) string {
	at := strings.LastIndexByte(from.Address, '@')
	if at < 0 {
		return fallbackDomain
	}
	return cleanDomain(from.Address[at+1:])
}

// cleanDomain returns d lower-cased when it is a plain DNS name, else
// fallbackDomain.
func cleanDomain(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	if d == "" || len(d) > 253 {
		return fallbackDomain
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fallbackDomain
		}
	}
	return d
}

// parseThread reads a stored thread: msg-ids with angle brackets separated
// by spaces, oldest first. Anything that is not a well-formed msg-id is
// skipped, so a damaged value can never inject header text.
func parseThread(s string) []string {
	var ids []string
	for f := range strings.FieldsSeq(s) {
		if !strings.HasPrefix(f, "<") {
			f = "<" + f + ">"
		}
		if validMsgID(f) {
			ids = append(ids, f)
		}
	}
	return ids
}

// validMsgID reports whether id is "<left@right>" of printable ASCII without
// brackets, spaces or a second '@'.
func validMsgID(id string) bool {
	if len(id) < 5 || len(id) > maxMsgIDLen || id[0] != '<' || id[len(id)-1] != '>' {
		return false
	}
	inner := id[1 : len(id)-1]
	at := strings.IndexByte(inner, '@')
	if at <= 0 || at == len(inner)-1 || strings.Count(inner, "@") != 1 {
		return false
	}
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}

// appendThread adds id to the thread, keeping the first msg-id (the
// firing mail, which Gmail needs to thread) and the most recent ones.
func appendThread(ids []string, id string) []string {
	out := append(slices.Clone(ids), id)
	if len(out) > maxReferences {
		out = append(out[:1:1], out[len(out)-maxReferences+1:]...)
	}
	return out
}

// lead is the first line of a mail: what happened.
func lead(n *notify.Notification) (headline, note string) {
	a := n.Alert()
	switch n.Event {
	case notify.EventResolved:
		return "Resolved", ""
	case notify.EventAcknowledged:
		h := "Acknowledged"
		if by := cleanHeaderText(a.AcknowledgedBy, 100); by != "" {
			h += " by " + by
		}
		return h, strings.TrimSpace(a.AckComment)
	case notify.EventRenotify:
		return "Still firing", ""
	case notify.EventEscalated:
		return "Escalated: not acknowledged yet", ""
	case notify.EventTest:
		return "Test notification", ""
	}
	return "Firing", ""
}

// kv is one label, metadata entry or annotation.
type kv struct{ Key, Value string }

// alertView is one alert as the templates show it.
type alertView struct {
	Name, Severity, State, Summary, Description string
	Time, Started, Server, Source               string
	Value, Threshold                            string
	Labels, Metadata, Annotations               []kv
}

// mailView is what the text and HTML bodies render.
type mailView struct {
	Lead, Note, Title string
	Count             int
	Alerts            []alertView
	URL               string
}

func sortedKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, kv{Key: k, Value: m[k]})
	}
	return out
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// serverOf names the machine an alert is about, from the usual metadata
// and label names.
func serverOf(a *alert.Alert) string {
	for _, k := range []string{"server", "host", "hostname", "instance"} {
		if v := a.Metadata[k]; v != "" {
			return v
		}
	}
	for _, k := range []string{"server", "host", "hostname", "instance"} {
		if v := a.Labels[k]; v != "" {
			return v
		}
	}
	return ""
}

func view(n *notify.Notification) mailView {
	h, note := lead(n)
	v := mailView{Lead: h, Note: note, Title: Subject(n.Alert()), Count: len(n.Alerts), URL: n.ExternalURL}
	for i := range n.Alerts {
		a := n.Alerts[i].Alert
		t := a.UpdatedAt
		if i == 0 && !n.CreatedAt.IsZero() {
			t = n.CreatedAt
		}
		av := alertView{
			Name:        cmpOr(a.RuleName, a.RuleID, a.Summary, string(a.Fingerprint)),
			Severity:    strings.ToUpper(a.Severity.String()),
			State:       string(a.State),
			Summary:     a.Summary,
			Description: a.Description,
			Time:        formatTime(t),
			Started:     formatTime(a.StartedAt),
			Server:      serverOf(a),
			Source:      a.Source,
			Value:       strconv.FormatFloat(a.Value, 'g', -1, 64),
			Labels:      sortedKV(a.Labels),
			Metadata:    sortedKV(a.Metadata),
			Annotations: sortedKV(a.Annotations),
		}
		if a.Threshold != nil {
			av.Threshold = strconv.FormatFloat(*a.Threshold, 'g', -1, 64)
		}
		v.Alerts = append(v.Alerts, av)
	}
	return v
}

// textBody renders the text/plain part.
func textBody(v *mailView) string {
	var b strings.Builder
	line := func(label, val string) {
		if val != "" {
			fmt.Fprintf(&b, "%-12s %s\n", label+":", val)
		}
	}
	b.WriteString(v.Lead)
	b.WriteByte('\n')
	if v.Note != "" {
		b.WriteString(v.Note)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(v.Title)
	b.WriteByte('\n')
	if v.Count > 1 {
		fmt.Fprintf(&b, "%d alerts in this group.\n", v.Count)
	}
	for _, a := range v.Alerts {
		b.WriteString("\n")
		if v.Count > 1 {
			fmt.Fprintf(&b, "== [%s] %s ==\n", a.Severity, a.Name)
		}
		line("Severity", a.Severity)
		line("State", a.State)
		line("Message", a.Summary)
		line("Time", a.Time)
		line("Started", a.Started)
		line("Server", a.Server)
		line("Source", a.Source)
		line("Value", a.Value)
		line("Threshold", a.Threshold)
		if a.Description != "" {
			b.WriteString("\n")
			b.WriteString(a.Description)
			b.WriteString("\n\n")
		}
		for _, sec := range []struct {
			name string
			kvs  []kv
		}{{"Labels", a.Labels}, {"Annotations", a.Annotations}, {"Metadata", a.Metadata}} {
			if len(sec.kvs) == 0 {
				continue
			}
			b.WriteString(sec.name + ":\n")
			for _, e := range sec.kvs {
				fmt.Fprintf(&b, "  %s = %s\n", e.Key, e.Value)
			}
		}
	}
	if v.URL != "" {
		b.WriteString("\nView the alert: ")
		b.WriteString(v.URL)
		b.WriteString("\n")
	}
	b.WriteString("\n-- \nSent by klaxon.\n")
	return b.String()
}

// htmlTemplate renders the text/html part. html/template escapes every
// value for its context (text, attribute, URL), so alert text cannot inject
// markup.
var htmlTemplate = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#222">
<p style="font-size:18px;margin:0 0 8px"><strong>{{.Lead}}</strong></p>
{{- if .Note}}
<p style="margin:0 0 8px"><em>{{.Note}}</em></p>
{{- end}}
<h2 style="font-size:16px;margin:16px 0 8px">{{.Title}}</h2>
{{- if gt .Count 1}}
<p>{{.Count}} alerts in this group.</p>
{{- end}}
{{- range .Alerts}}
<table cellpadding="4" cellspacing="0" style="border-collapse:collapse;margin:8px 0 16px;border:1px solid #ddd">
{{- if gt $.Count 1}}
<tr><th colspan="2" align="left" style="background:#f4f4f4">[{{.Severity}}] {{.Name}}</th></tr>
{{- end}}
<tr><td><b>Severity</b></td><td>{{.Severity}}</td></tr>
<tr><td><b>State</b></td><td>{{.State}}</td></tr>
{{- if .Summary}}
<tr><td><b>Message</b></td><td>{{.Summary}}</td></tr>
{{- end}}
{{- if .Description}}
<tr><td><b>Description</b></td><td style="white-space:pre-wrap">{{.Description}}</td></tr>
{{- end}}
{{- if .Time}}
<tr><td><b>Time</b></td><td>{{.Time}}</td></tr>
{{- end}}
{{- if .Started}}
<tr><td><b>Started</b></td><td>{{.Started}}</td></tr>
{{- end}}
{{- if .Server}}
<tr><td><b>Server</b></td><td>{{.Server}}</td></tr>
{{- end}}
{{- if .Source}}
<tr><td><b>Source</b></td><td>{{.Source}}</td></tr>
{{- end}}
<tr><td><b>Value</b></td><td>{{.Value}}</td></tr>
{{- if .Threshold}}
<tr><td><b>Threshold</b></td><td>{{.Threshold}}</td></tr>
{{- end}}
{{- if .Labels}}
<tr><td valign="top"><b>Labels</b></td><td>{{range .Labels}}<code>{{.Key}}={{.Value}}</code><br>{{end}}</td></tr>
{{- end}}
{{- if .Annotations}}
<tr><td valign="top"><b>Annotations</b></td><td>{{range .Annotations}}<code>{{.Key}}</code>: {{.Value}}<br>{{end}}</td></tr>
{{- end}}
{{- if .Metadata}}
<tr><td valign="top"><b>Metadata</b></td><td>{{range .Metadata}}<code>{{.Key}}={{.Value}}</code><br>{{end}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- if .URL}}
<p><a href="{{.URL}}">View the alert in klaxon</a></p>
{{- end}}
<p style="color:#888;font-size:12px">Sent by klaxon.</p>
</body></html>
`))

// htmlBody renders the text/html part.
func htmlBody(v *mailView) (string, error) {
	var b strings.Builder
	if err := htmlTemplate.Execute(&b, v); err != nil {
		return "", fmt.Errorf("render html: %w", err)
	}
	return b.String(), nil
}

// built is a rendered mail and its thread bookkeeping.
type built struct {
	msg *gomail.Msg
	// id is the mail's own Message-ID, with brackets.
	id string
	// thread is the thread to store after a successful send.
	thread string
}

// buildMessage renders n into a mail from the channel's sender to its
// recipients, dated now.
func (c *Channel) buildMessage(n *notify.Notification, now time.Time) (*built, error) {
	a := n.Alert()
	v := view(n)
	html, err := htmlBody(&v)
	if err != nil {
		return nil, err
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithCharset(gomail.CharsetUTF8),
		gomail.WithEncoding(gomail.EncodingQP))
	m.FromMailAddress(c.from)
	m.SetAddrHeaderFromMailAddress(gomail.HeaderTo, c.to...)
	setSubject(m, subjectFor(n))
	m.SetDateWithValue(now)
	id := newMessageID(a, c.domain)
	m.SetMessageIDWithValue(strings.Trim(id, "<>"))
	prev := parseThread(n.Thread)
	if len(prev) > 0 {
		// One space-separated value: go-mail joins several values with
		// ", ", which References must not contain. It folds long values
		// at the spaces.
		m.SetGenHeader(gomail.HeaderInReplyTo, prev[len(prev)-1])
		m.SetGenHeader(gomail.HeaderReferences, strings.Join(prev, " "))
	}
	m.SetGenHeader(gomail.HeaderUserAgent, "klaxon")
	m.SetGenHeader(gomail.HeaderXMailer, "klaxon")
	m.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader("X-Klaxon-Event", string(n.Event))
	if fp := idAtom(string(a.Fingerprint), 64); fp != "" {
		m.SetGenHeader("X-Klaxon-Fingerprint", fp)
	}
	m.SetBodyString(gomail.TypeTextPlain, textBody(&v))
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	thread := strings.Join(appendThread(prev, id), " ")
	return &built{msg: m, id: id, thread: thread}, nil
}
