package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// FuzzParseThread checks the stored thread reference parser: it never
// panics, and what it accepts splits back into the input.
func FuzzParseThread(f *testing.F) {
	for _, s := range []string{"C024BE91L:1503435956.000247", "", ":", "C1:", ":1.2", "C1:1:2", "C 1:2", "#alerts:1795487537"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ch, ts, ok := parseThread(s)
		if !ok {
			return
		}
		if ch == "" || ts == "" || ch+":"+ts != s || strings.Contains(ch, ":") {
			t.Fatalf("parseThread(%q) = %q, %q", s, ch, ts)
		}
	})
}

// FuzzWebhookCode checks the webhook answer reader: a code is only ever a
// short token from the body.
func FuzzWebhookCode(f *testing.F) {
	for _, s := range []string{"ok", "no_service\n", "<html>", "", strings.Repeat("a", 100), "invalid_token"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code := webhookCode(s)
		if code == "" {
			return
		}
		if len(code) > 64 || strings.ContainsAny(code, " <>&\"\n") || !strings.Contains(s, code) {
			t.Fatalf("webhookCode(%q) = %q", s, code)
		}
	})
}

// FuzzBuildMessage feeds outside text (rule names, summaries, labels, ack
// comments) through the renderer: no panic, and no unescaped markup.
func FuzzBuildMessage(f *testing.F) {
	f.Add("High error rate", "Error rate is <b>", "k", "v&", "alice", "comment")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, name, summary, k, v, by, comment string) {
		n := testNotification(alert.StateAcknowledged, "")
		a := &n.Alerts[0]
		a.RuleName, a.Summary, a.AcknowledgedBy, a.AckComment = name, summary, by, comment
		a.Labels = alert.Labels{k: v}
		m := buildMessage(n, time.Time{})
		for _, s := range []string{m.text, m.reply, m.attachments[0].Text} {
			if strings.ContainsAny(s, "<>") {
				t.Fatalf("unescaped markup in %q", s)
			}
		}
	})
}
