package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// smtpBackend is a minimal real SMTP server (go-smtp) that keeps messages.
type smtpBackend struct {
	mu   sync.Mutex
	msgs []string
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct{ b *smtpBackend }

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, string(raw))
	s.b.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func TestTestChannel_WebhookAndEmail(t *testing.T) {
	t.Parallel()
	var hookBody string
	var mu sync.Mutex
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		hookBody = string(raw)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hook.Close)

	be := &smtpBackend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	dir := t.TempDir()
	cfg := filepath.Join(dir, "k.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(`
channels:
  hook:
    type: webhook
    url: `+hook.URL+`/in
  mail:
    type: email
    smtp_host: 127.0.0.1
    smtp_port: `+port+`
    tls: none
    from: klaxon@example.com
    to: [oncall@example.com]
routes:
  - notify: [hook, mail]
`), 0o600))

	out, errOut, err := run(t, nil, "test-channel", "hook", "--config", cfg, "--data-dir", dir)
	require.NoError(t, err, errOut)
	require.Contains(t, out, "channel hook: ok")
	require.Contains(t, out, "status 202")
	mu.Lock()
	require.Contains(t, hookBody, `"type":"alert.test"`)
	mu.Unlock()

	out, errOut, err = run(t, nil, "test-channel", "mail", "--config", cfg, "--data-dir", dir)
	require.NoError(t, err, errOut)
	require.Contains(t, out, "channel mail: ok")
	be.mu.Lock()
	require.Len(t, be.msgs, 1)
	require.Contains(t, be.msgs[0], "Subject: [CRITICAL] Alert: High error rate")
	be.mu.Unlock()

	// A receiver that refuses is reported with its answer, and exit 1.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook", http.StatusNotFound)
	}))
	t.Cleanup(refuse.Close)
	env := map[string]string{"MCP_ALERT_WEBHOOK_URL": refuse.URL + "/hook"}
	_, errOut, err = run(t, env, "test-channel", "webhook", "--data-dir", dir)
	require.Error(t, err)
	require.Contains(t, errOut, "channel webhook: FAILED")
	require.Contains(t, errOut, "404")
}

func TestHelp_NoSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"KLAXON_API_TOKEN":                "tok-SECRET-1",
		"MCP_ALERT_WEBHOOK_URL":           "https://hooks.example.com/SECRET-2",
		"MCP_ALERT_WEBHOOK_SECRET":        "whsec_SECRET3SECRET3SECRET3SECRET3SECRET3",
		"MCP_ALERT_EMAIL_PASSWORD":        "SECRET-4",
		"MCP_ALERT_SLACK_TOKEN":           "xoxb-SECRET-5",
		"MCP_ALERT_PAGERDUTY_ROUTING_KEY": "SECRET-6",
	}
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"test-channel", "--help"}, {"mcp", "--help"}, {"alerts", "--help"}} {
		out, errOut, err := run(t, env, args...)
		require.NoError(t, err)
		require.NotContains(t, out+errOut, "SECRET", "klaxon %s", strings.Join(args, " "))
	}
}
