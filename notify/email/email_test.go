package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// fixedNow is the clock of every test channel.
var fixedNow = time.Date(2026, 11, 24, 2, 32, 17, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

// msgIDRE is the shape of our Message-IDs.
var msgIDRE = regexp.MustCompile(`^<[0-9a-f]{1,64}\.\d+\.[0-9a-f]{16}@example\.com>$`)

// parsedMail is a received message parsed with the standard library.
type parsedMail struct {
	Header  mail.Header
	Subject string
	// Parts are the multipart/alternative parts' media types, in order.
	Parts      []string
	Text, HTML string
	Raw        []byte
}

func parseMail(tb testing.TB, raw []byte) parsedMail {
	tb.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(tb, err)
	p := parsedMail{Header: m.Header, Raw: raw}
	p.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	require.NoError(tb, err)
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(tb, err)
	require.Equal(tb, "multipart/alternative", mt)
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(tb, err)
		pt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		require.NoError(tb, err)
		require.Equal(tb, "utf-8", strings.ToLower(pparams["charset"]))
		body, err := io.ReadAll(part)
		require.NoError(tb, err)
		body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
		p.Parts = append(p.Parts, pt)
		switch pt {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		}
	}
	return p
}

// firing returns a firing notification of the sample alert.
func firing() *notify.Notification {
	n := notify.SampleNotification("ops", fixedNow.Add(-time.Minute))
	n.Event = notify.EventActive
	return n
}

// followUp returns n's next notification: the alert moved to state by
// event, with thread from the previous receipt.
func followUp(n *notify.Notification, event notify.Event, state alert.State, thread string) *notify.Notification {
	c := *n
	c.Alerts = []notify.AlertEvent{{Alert: n.Alerts[0].Alert.Clone(), PreviousState: n.Alerts[0].State}}
	a := c.Alerts[0].Alert
	a.State = state
	a.Sequence++
	c.Event = event
	c.Thread = thread
	if event == notify.EventAcknowledged {
		a.AcknowledgedBy = "alice"
		a.AckComment = "looking into it"
	}
	return &c
}

func newChannel(tb testing.TB, cfg Config, opts ...Option) *Channel {
	tb.Helper()
	ch, err := New("ops-mail", cfg, append([]Option{WithClock(fixedClock)}, opts...)...)
	require.NoError(tb, err)
	return ch
}

func TestChannel_Send_TransportsAndAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		serverTLS string
		tls       string
		mechs     []string
		auth      string
		insecure  bool
	}{
		// STARTTLS on a submission port with AUTH PLAIN: the common case.
		{name: "starttls plain", serverTLS: "starttls", tls: TLSStartTLS, mechs: []string{sasl.Plain}, auth: AuthPlain},
		// STARTTLS with AUTH LOGIN for legacy servers.
		{name: "starttls login", serverTLS: "starttls", tls: TLSStartTLS, mechs: []string{sasl.Login}, auth: AuthLogin},
		// CRAM-MD5 when the user insists.
		{name: "starttls cram-md5", serverTLS: "starttls", tls: TLSStartTLS, mechs: []string{"CRAM-MD5"}, auth: AuthCRAMMD5},
		// Implicit TLS (port 465 style) with PLAIN.
		{name: "implicit tls plain", serverTLS: "tls", tls: TLSImplicit, mechs: []string{sasl.Plain}, auth: AuthPlain},
		// Implicit TLS with LOGIN.
		{name: "implicit tls login", serverTLS: "tls", tls: TLSImplicit, mechs: []string{sasl.Login}, auth: AuthLogin},
		// Default auth (empty) is PLAIN.
		{name: "default auth is plain", serverTLS: "starttls", tls: TLSStartTLS, mechs: []string{sasl.Plain}},
		// STARTTLS without AUTH (a relay that trusts the network).
		{name: "starttls no auth", serverTLS: "starttls", tls: TLSStartTLS},
		// Cleartext relay without AUTH.
		{name: "none no auth", serverTLS: "none", tls: TLSNone},
		// Cleartext AUTH is allowed to a loopback host.
		{name: "none plain loopback", serverTLS: "none", tls: TLSNone, mechs: []string{sasl.Plain}, auth: AuthPlain, insecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, serverOpts{tls: tt.serverTLS, mechs: tt.mechs, insecureAuth: tt.insecure})
			cfg := srv.config(tt.tls)
			if len(tt.mechs) > 0 {
				cfg.Username, cfg.Password, cfg.Auth = srv.user, secret.New(srv.pass), tt.auth
			}
			ch := newChannel(t, cfg, srv.tlsOption())
			rc, err := ch.Send(t.Context(), firing())
			require.NoError(t, err)
			require.Equal(t, 250, rc.StatusCode)
			require.True(t, strings.HasPrefix(rc.Detail, "250"), rc.Detail)

			got := srv.received()
			require.Len(t, got, 1)
			require.Equal(t, tt.tls != TLSNone, got[0].TLS, "transport encrypted")
			if len(tt.mechs) > 0 {
				require.Equal(t, srv.user, got[0].User)
			}
			require.Equal(t, "alerts@example.com", got[0].From)
			require.Equal(t, []string{"oncall@example.org", "ops@example.org"}, got[0].To)
			m := parseMail(t, got[0].Data)
			require.Equal(t, rc.Thread, m.Header.Get("Message-Id"))
		})
	}
}

func TestChannel_Send_Message(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())
	n := firing()
	n.ExternalURL = "https://klaxon.example.com/alerts/a1?x=1&y=2"
	n.Alerts[0].Labels["payload"] = `<script>alert("x")</script>`
	n.Alerts[0].Metadata["region"] = "eu-west-1"

	rc, err := ch.Send(t.Context(), n)
	require.NoError(t, err)
	got := srv.received()
	require.Len(t, got, 1)
	m := parseMail(t, got[0].Data)

	// Headers.
	require.Equal(t, "[CRITICAL] Alert: High error rate", m.Subject)
	from, err := m.Header.AddressList("From")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Name: "Klaxon Alerts", Address: "alerts@example.com"}}, from)
	to, err := m.Header.AddressList("To")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Address: "oncall@example.org"}, {Name: "Ops Team", Address: "ops@example.org"}}, to)
	id := m.Header.Get("Message-Id")
	require.Regexp(t, msgIDRE, id)
	require.True(t, strings.HasPrefix(id, "<"+string(n.Alerts[0].Fingerprint)+".1."), id)
	require.Equal(t, id, rc.Thread, "the firing mail's Message-ID is the thread")
	date, err := m.Header.Date()
	require.NoError(t, err)
	require.True(t, date.Equal(fixedNow), "Date %v", date)
	require.Equal(t, "1.0", m.Header.Get("Mime-Version"))
	require.Equal(t, "auto-generated", m.Header.Get("Auto-Submitted"))
	require.Empty(t, m.Header.Get("In-Reply-To"))
	require.Empty(t, m.Header.Get("References"))

	// Parts: text first, HTML last (RFC 2046: the last is preferred).
	require.Equal(t, []string{"text/plain", "text/html"}, m.Parts)
	for _, body := range []string{m.Text, m.HTML} {
		require.Contains(t, body, "Firing")
		require.Contains(t, body, "CRITICAL")
		require.Contains(t, body, "Error rate is 12.5% (threshold 5%)")
		require.Contains(t, body, "0.125")
		require.Contains(t, body, "0.05")
		require.Contains(t, body, "klaxon-test") // server from metadata
		require.Contains(t, body, "eu-west-1")
		require.Contains(t, body, "2026-11-24 02:31:17 UTC")
		require.Contains(t, body, "service")
		require.Contains(t, body, "checkout")
	}
	require.True(t, strings.HasPrefix(m.Text, "Firing\n"), m.Text)
	require.Contains(t, m.Text, `payload = <script>alert("x")</script>`)
	require.Contains(t, m.Text, "View the alert: https://klaxon.example.com/alerts/a1?x=1&y=2")
	require.NotContains(t, m.HTML, "<script>")
	require.Contains(t, m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
	require.Contains(t, m.HTML, `href="https://klaxon.example.com/alerts/a1?x=1&amp;y=2"`)
}

func TestChannel_Send_Threading(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())

	n1 := firing()
	rc1, err := ch.Send(t.Context(), n1)
	require.NoError(t, err)
	n2 := followUp(n1, notify.EventAcknowledged, alert.StateAcknowledged, rc1.Thread)
	rc2, err := ch.Send(t.Context(), n2)
	require.NoError(t, err)
	n3 := followUp(n2, notify.EventResolved, alert.StateResolved, rc2.Thread)
	rc3, err := ch.Send(t.Context(), n3)
	require.NoError(t, err)

	got := srv.received()
	require.Len(t, got, 3)
	m1, m2, m3 := parseMail(t, got[0].Data), parseMail(t, got[1].Data), parseMail(t, got[2].Data)
	id1, id2, id3 := m1.Header.Get("Message-Id"), m2.Header.Get("Message-Id"), m3.Header.Get("Message-Id")
	for _, id := range []string{id1, id2, id3} {
		require.Regexp(t, msgIDRE, id)
	}
	require.NotEqual(t, id1, id2, "each mail has its own Message-ID")
	require.NotEqual(t, id2, id3)

	// Subjects: one stable subject, follow-ups behind "Re: ".
	require.Equal(t, "[CRITICAL] Alert: High error rate", m1.Subject)
	require.Equal(t, "Re: [CRITICAL] Alert: High error rate", m2.Subject)
	require.Equal(t, "Re: [CRITICAL] Alert: High error rate", m3.Subject)

	// The References chain.
	require.Equal(t, id1, rc1.Thread)
	require.Equal(t, id1, m2.Header.Get("In-Reply-To"))
	require.Equal(t, id1, m2.Header.Get("References"))
	require.Equal(t, id1+" "+id2, rc2.Thread)
	require.Equal(t, id2, m3.Header.Get("In-Reply-To"))
	require.Equal(t, id1+" "+id2, strings.Join(strings.Fields(m3.Header.Get("References")), " "))
	require.Equal(t, id1+" "+id2+" "+id3, rc3.Thread)

	// Bodies open with the new state.
	require.True(t, strings.HasPrefix(m2.Text, "Acknowledged by alice\nlooking into it\n"), m2.Text)
	require.Contains(t, m2.HTML, "<strong>Acknowledged by alice</strong>")
	require.True(t, strings.HasPrefix(m3.Text, "Resolved\n"), m3.Text)
	require.Contains(t, m3.HTML, "<strong>Resolved</strong>")
	require.Contains(t, m3.Text, "resolved")
}

func TestChannel_Send_EncodedSubject(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())
	n := firing()
	n.Alerts[0].RuleName = "Überlast der Datenbank — Größe 🚨 " + strings.Repeat("sehr lang ", 8)
	n.Alerts[0].Severity = alert.High

	_, err := ch.Send(t.Context(), n)
	require.NoError(t, err)
	got := srv.received()
	require.Len(t, got, 1)
	m := parseMail(t, got[0].Data)
	require.Equal(t, "[HIGH] Alert: "+strings.TrimSpace(n.Alerts[0].RuleName), m.Subject)

	raw := string(got[0].Data)
	header := raw[:strings.Index(raw, "\r\n\r\n")]
	require.Contains(t, header, "=?UTF-8?")
	for line := range strings.SplitSeq(header, "\r\n") {
		require.LessOrEqual(t, len(line), 998, "RFC 5322 line limit")
		for _, r := range line {
			require.Less(t, r, rune(0x80), "headers are ASCII: %q", line)
		}
	}
}

func TestChannel_Send_SubjectName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		alert alert.Alert
		want  string
	}{
		// The rule's display name wins.
		{name: "rule name", alert: alert.Alert{RuleName: "Disk full", RuleID: "disk", Severity: alert.Low}, want: "[LOW] Alert: Disk full"},
		// Without a name, the rule id.
		{name: "rule id", alert: alert.Alert{RuleID: "disk_full", Severity: alert.Medium}, want: "[MEDIUM] Alert: disk_full"},
		// Pushed alerts have neither: the summary.
		{name: "pushed", alert: alert.Alert{Summary: "Backup failed on db-2", Severity: alert.Info}, want: "[INFO] Alert: Backup failed on db-2"},
		// Header injection is neutralised: CR/LF become a space.
		{name: "newline", alert: alert.Alert{RuleName: "a\r\nBcc: evil@example.com", Severity: alert.Critical}, want: "[CRITICAL] Alert: a Bcc: evil@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Subject(&tt.alert))
		})
	}
}

func TestChannel_Send_Grouped(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())
	n := firing()
	second := *n.Alerts[0].Alert.Clone()
	second.RuleName, second.Summary, second.Severity = "Slow responses", "p95 is 900ms", alert.High
	third := *n.Alerts[0].Alert.Clone()
	third.RuleName, third.Summary = "Disk almost full", "disk_usage is 93%"
	n.Alerts = append(n.Alerts, notify.AlertEvent{Alert: &second}, notify.AlertEvent{Alert: &third})
	n.GroupKey = "route0/service=checkout"

	_, err := ch.Send(t.Context(), n)
	require.NoError(t, err)
	got := srv.received()
	require.Len(t, got, 1)
	m := parseMail(t, got[0].Data)
	require.Equal(t, "[CRITICAL] Alert: High error rate", m.Subject, "the subject stays the lead alert's, for threading")
	for _, body := range []string{m.Text, m.HTML} {
		require.Contains(t, body, "3 alerts in this group.")
		require.Contains(t, body, "[CRITICAL] High error rate")
		require.Contains(t, body, "[HIGH] Slow responses")
		require.Contains(t, body, "p95 is 900ms")
		require.Contains(t, body, "Disk almost full")
		require.Contains(t, body, "disk_usage is 93%")
	}
}

// smtpFail builds a go-smtp error reply.
func smtpFail(code int, enh smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

func TestChannel_Send_ErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		setup     func(*testServer)
		permanent bool
		code      int
		contains  []string
	}{
		// A 550 on RCPT is permanent and names the address.
		{
			name: "rcpt 550",
			setup: func(s *testServer) {
				s.onRcpt = func(to string) error {
					return smtpFail(550, smtp.EnhancedCode{5, 1, 1}, "no such user: "+to)
				}
			},
			permanent: true, code: 550,
			contains: []string{"oncall@example.org (550 5.1.1", "ops@example.org (550 5.1.1"},
		},
		// A greylisting 450 on RCPT is retryable.
		{
			name: "rcpt 450",
			setup: func(s *testServer) {
				s.onRcpt = func(string) error { return smtpFail(450, smtp.EnhancedCode{4, 2, 0}, "greylisted") }
			},
			code: 450, contains: []string{"oncall@example.org (450 4.2.0 greylisted)"},
		},
		// 421 at MAIL FROM: the server is going away, retry.
		{
			name: "mail 421",
			setup: func(s *testServer) {
				s.onMail = func(int) error { return smtpFail(421, smtp.EnhancedCode{4, 3, 2}, "shutting down") }
			},
			code: 421, contains: []string{"MAIL FROM: 421 4.3.2 shutting down"},
		},
		// 451 on DATA is a local error at the server: retry.
		{
			name: "data 451",
			setup: func(s *testServer) {
				s.onData = func(int) error { return smtpFail(451, smtp.EnhancedCode{4, 3, 0}, "try later") }
			},
			code: 451, contains: []string{"DATA: 451 4.3.0 try later"},
		},
		// 554 on DATA (policy rejection) is permanent.
		{
			name: "data 554",
			setup: func(s *testServer) {
				s.onData = func(int) error { return smtpFail(554, smtp.EnhancedCode{5, 7, 1}, "spam") }
			},
			permanent: true, code: 554, contains: []string{"DATA: 554 5.7.1 spam"},
		},
		// 552 at MAIL FROM (size) is permanent.
		{
			name: "mail 552",
			setup: func(s *testServer) {
				s.onMail = func(int) error { return smtpFail(552, smtp.EnhancedCode{5, 3, 4}, "too big") }
			},
			permanent: true, code: 552, contains: []string{"MAIL FROM: 552 5.3.4 too big"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, serverOpts{tls: "starttls"})
			tt.setup(srv)
			ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())
			rc, err := ch.Send(t.Context(), firing())
			require.Error(t, err)
			require.Equal(t, tt.permanent, notify.IsPermanent(err), notify.Describe(err))
			require.Equal(t, tt.code, rc.StatusCode)
			require.Empty(t, rc.Thread)
			for _, s := range tt.contains {
				require.Contains(t, err.Error(), s)
			}
			var se *SMTPError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tt.code, se.Code)
			require.Empty(t, srv.received(), "nothing delivered")
		})
	}
}

func TestChannel_Send_PartialRejection(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	srv.onRcpt = func(to string) error {
		if to == "ops@example.org" {
			return smtpFail(550, smtp.EnhancedCode{5, 1, 1}, "mailbox unavailable")
		}
		return nil
	}
	ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())
	_, err := ch.Send(t.Context(), firing())
	require.Error(t, err)
	require.True(t, notify.IsPermanent(err))
	var re *RecipientsError
	require.ErrorAs(t, err, &re)
	require.Len(t, re.Rejected, 1)
	require.Equal(t, "ops@example.org", re.Rejected[0].Address)
	require.Equal(t, 550, re.Rejected[0].Err.Code)
	require.Equal(t, "5.1.1", re.Rejected[0].Err.EnhancedCode)
	require.Equal(t, []string{"oncall@example.org"}, re.Delivered)
	require.Contains(t, err.Error(), "ops@example.org (550 5.1.1 mailbox unavailable)")

	got := srv.received()
	require.Len(t, got, 1, "the accepted recipient still gets the alert")
	require.Equal(t, []string{"oncall@example.org"}, got[0].To)
}

func TestChannel_Send_MixedRejectionSendsNothing(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	srv.onRcpt = func(to string) error {
		if to == "ops@example.org" {
			return smtpFail(451, smtp.EnhancedCode{4, 3, 0}, "busy")
		}
		return nil
	}
	ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())
	_, err := ch.Send(t.Context(), firing())
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err), "a temporary refusal retries the whole mail")
	require.Empty(t, srv.received(), "nothing sent, so the retry cannot duplicate")
}

func TestChannel_Send_RetriedThenDelivered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*testServer)
	}{
		// 421 on the first MAIL FROM.
		{name: "421 mail", setup: func(s *testServer) {
			s.onMail = func(attempt int) error {
				if attempt == 1 {
					return smtpFail(421, smtp.EnhancedCode{4, 7, 0}, "too many connections")
				}
				return nil
			}
		}},
		// 451 on the first DATA.
		{name: "451 data", setup: func(s *testServer) {
			s.onData = func(attempt int) error {
				if attempt == 1 {
					return smtpFail(451, smtp.EnhancedCode{4, 3, 0}, "local error")
				}
				return nil
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, serverOpts{tls: "starttls"})
			tt.setup(srv)
			ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())
			n := firing()
			_, err := ch.Send(t.Context(), n)
			require.Error(t, err)
			require.False(t, notify.IsPermanent(err))
			require.Empty(t, srv.received())

			// The dispatcher retries the same notification.
			n.Attempt++
			rc, err := ch.Send(t.Context(), n)
			require.NoError(t, err, "retried and then delivered")
			require.Equal(t, 250, rc.StatusCode)
			require.Len(t, srv.received(), 1)
		})
	}
}

func TestChannel_Send_SetupErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		server    serverOpts
		cfg       func(*testServer) Config
		opts      func(*testServer) []Option
		permanent bool
		is        error
		contains  string
	}{
		// tls: starttls never falls back to cleartext.
		{
			name:   "no starttls offered",
			server: serverOpts{tls: "none"},
			cfg:    func(s *testServer) Config { return s.config(TLSStartTLS) },
			is:     ErrSTARTTLSUnavailable, permanent: true,
		},
		// An untrusted certificate is a configuration problem.
		{
			name:      "untrusted certificate",
			server:    serverOpts{tls: "starttls"},
			cfg:       func(s *testServer) Config { return s.config(TLSStartTLS) },
			opts:      func(*testServer) []Option { return nil },
			permanent: true, contains: "certificate",
		},
		// ca_file makes the certificate trusted.
		{
			name:   "ca_file trusts",
			server: serverOpts{tls: "tls"},
			cfg: func(s *testServer) Config {
				c := s.config(TLSImplicit)
				c.CAFile = s.caFile
				return c
			},
			opts: func(*testServer) []Option { return nil },
		},
		// insecure_skip_verify accepts any certificate.
		{
			name:   "insecure skip verify",
			server: serverOpts{tls: "starttls"},
			cfg: func(s *testServer) Config {
				c := s.config(TLSStartTLS)
				c.InsecureSkipVerify = true
				return c
			},
			opts: func(*testServer) []Option { return nil },
		},
		// Wrong credentials: 535 is permanent.
		{
			name:   "bad password",
			server: serverOpts{tls: "starttls", mechs: []string{sasl.Plain}},
			cfg: func(s *testServer) Config {
				c := s.config(TLSStartTLS)
				c.Username, c.Password = s.user, secret.New("wrong-password-123")
				return c
			},
			permanent: true, contains: "AUTH: 535 5.7.8",
		},
		// The server lacks the configured mechanism.
		{
			name:   "mechanism not offered",
			server: serverOpts{tls: "starttls", mechs: []string{sasl.Plain}},
			cfg: func(s *testServer) Config {
				c := s.config(TLSStartTLS)
				c.Username, c.Password, c.Auth = s.user, secret.New(s.pass), AuthCRAMMD5
				return c
			},
			is: ErrAuthUnavailable, permanent: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, tt.server)
			opts := []Option{srv.tlsOption()}
			if tt.opts != nil {
				opts = tt.opts(srv)
			}
			ch := newChannel(t, tt.cfg(srv), opts...)
			_, err := ch.Send(t.Context(), firing())
			if !tt.permanent && tt.is == nil && tt.contains == "" {
				require.NoError(t, err)
				require.Len(t, srv.received(), 1)
				return
			}
			require.Error(t, err)
			require.Equal(t, tt.permanent, notify.IsPermanent(err), notify.Describe(err))
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.Contains(t, err.Error(), tt.contains)
			require.Empty(t, srv.received())
		})
	}
}

func TestChannel_Send_ConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	ch := newChannel(t, Config{SMTPHost: "127.0.0.1", SMTPPort: port, From: "a@example.com", To: []string{"b@example.com"}})
	rc, err := ch.Send(t.Context(), firing())
	require.Error(t, err)
	require.False(t, notify.IsPermanent(err), "connection errors are retryable")
	require.Equal(t, notify.ReasonConnection, notify.ReasonOf(err))
	require.Zero(t, rc.StatusCode)
}

func TestChannel_Send_Cancel(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	blocked := srv.blockData()
	ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption())
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := ch.Send(ctx, firing())
		errc <- err
	}()
	waitClosed(t, t.Context(), blocked)
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, notify.ReasonCanceled, notify.ReasonOf(err))

	// A cancelled context sends nothing at all.
	_, err = ch.Send(ctx, firing())
	require.ErrorIs(t, err, context.Canceled)
}

func TestChannel_Send_Timeout(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	blocked := srv.blockData()
	cfg := srv.config(TLSStartTLS)
	cfg.Timeout = 300 * time.Millisecond
	ch := newChannel(t, cfg, srv.tlsOption())
	_, err := ch.Send(t.Context(), firing())
	waitClosed(t, t.Context(), blocked)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, notify.IsPermanent(err))
	require.Equal(t, notify.ReasonTimeout, notify.ReasonOf(err))
}

func TestChannel_Send_NoAlerts(t *testing.T) {
	t.Parallel()
	ch := newChannel(t, Config{SMTPHost: "127.0.0.1", From: "a@example.com", To: []string{"b@example.com"}})
	_, err := ch.Send(t.Context(), &notify.Notification{})
	require.ErrorIs(t, err, ErrNoAlerts)
	require.True(t, notify.IsPermanent(err))
}

func TestChannel_SecretNeverLeaks(t *testing.T) {
	t.Parallel()
	const password = "hunter2-very-secret-Pa55"
	srv := newTestServer(t, serverOpts{tls: "starttls", mechs: []string{sasl.Plain}})
	cfg := srv.config(TLSStartTLS)
	cfg.Username, cfg.Password = srv.user, secret.New(password) // server expects another one: 535

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ch := newChannel(t, cfg, srv.tlsOption(), WithLogger(logger))
	_, err := ch.Send(t.Context(), firing())
	require.Error(t, err)
	logger.Info("channel", "channel", ch, "config", cfg)

	// A config error on a channel with the password.
	bad := cfg
	bad.TLS, bad.SMTPHost = TLSNone, "smtp.example.com"
	_, newErr := New("x", bad)
	require.Error(t, newErr)

	outputs := map[string]string{
		"send error":   err.Error(),
		"describe":     notify.Describe(err),
		"new error":    newErr.Error(),
		"log":          logs.String(),
		"%+v config":   fmt.Sprintf("%+v", cfg),
		"%#v config":   fmt.Sprintf("%#v", cfg),
		"%v config":    fmt.Sprintf("%v", cfg),
		"%+v channel":  fmt.Sprintf("%+v", ch),
		"%#v channel":  fmt.Sprintf("%#v", ch),
		"%s channel":   fmt.Sprintf("%s", ch),
		"%+v *channel": fmt.Sprintf("%+v", *ch),
	}
	for name, out := range outputs {
		require.NotContains(t, out, password, name)
		require.NotEmpty(t, out, name)
	}
	require.Contains(t, logs.String(), "email not sent")
	require.Contains(t, outputs["%#v channel"], "ops-mail")
}

func TestNew_RefusesCleartextAuth(t *testing.T) {
	t.Parallel()
	cfg := Config{
		SMTPHost: "mail.example.com", SMTPPort: 25, TLS: TLSNone,
		Username: "u", Password: secret.New("p4ssword"),
		From: "a@example.com", To: []string{"b@example.com"},
	}
	_, err := New("x", cfg)
	require.Error(t, err)
	require.Contains(t, err.Error(), "tls: ")
	require.Contains(t, err.Error(), "password")
	require.Contains(t, err.Error(), "cleartext")
	require.NotContains(t, err.Error(), "p4ssword")

	for _, host := range []string{"localhost", "127.0.0.1", "::1", "127.0.0.53"} {
		cfg.SMTPHost = host
		_, err := New("x", cfg)
		require.NoError(t, err, host)
	}
}

func TestNew_CAFile(t *testing.T) {
	t.Parallel()
	cfg := Config{SMTPHost: "h", From: "a@example.com", To: []string{"b@example.com"}, CAFile: "/nonexistent/ca.pem"}
	_, err := New("x", cfg)
	require.ErrorContains(t, err, "ca_file: ")

	cfg.CAFile = t.TempDir() + "/empty.pem"
	require.NoError(t, writeFile(cfg.CAFile, "not a pem"))
	_, err = New("x", cfg)
	require.ErrorContains(t, err, "ca_file: no PEM certificates")
}

func TestChannel_Type(t *testing.T) {
	t.Parallel()
	ch := newChannel(t, Config{SMTPHost: "h", From: "a@example.com", To: []string{"b@example.com"}})
	require.Equal(t, "email", ch.Type())
	require.Equal(t, "ops-mail", ch.Name())
}

func TestWithHostname(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, serverOpts{tls: "starttls"})
	ch := newChannel(t, srv.config(TLSStartTLS), srv.tlsOption(), WithHostname("klaxon.internal"))
	rc, err := ch.Send(t.Context(), firing())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(rc.Thread, "@klaxon.internal>"), rc.Thread)
}
