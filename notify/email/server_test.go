package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// testServer is a real SMTP server (emersion/go-smtp) on a loopback port
// that records what it receives and can be told to refuse commands.
type testServer struct {
	host string
	port int
	// pool trusts the server's self-signed certificate.
	pool *x509.CertPool
	// caFile is the certificate as a PEM file.
	caFile string

	user, pass string

	mu sync.Mutex
	// mails are the messages accepted, in order.
	mails []receivedMail
	// hooks answer commands; nil accepts. attempt counts MAIL commands
	// from 1.
	onMail func(attempt int) error
	onRcpt func(to string) error
	onData func(attempt int) error
	// block, when set, makes Data wait until it is closed.
	block   chan struct{}
	blocked chan struct{}
	mailN   int
	authed  []string
}

// receivedMail is one accepted message.
type receivedMail struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

// serverOpts chooses the server's transport and AUTH.
type serverOpts struct {
	// tls: "starttls" (offer STARTTLS), "tls" (implicit TLS) or "none".
	tls string
	// mechs lists AUTH mechanisms to offer (sasl.Plain, sasl.Login,
	// "CRAM-MD5"); none means no AUTH.
	mechs []string
	// insecureAuth allows AUTH without TLS.
	insecureAuth bool
}

func newTestServer(tb testing.TB, o serverOpts) *testServer {
	tb.Helper()
	ts := &testServer{host: "127.0.0.1", user: "alerts@example.com", pass: "hunter2-s3cret-pa55"}
	cert, pemBytes := selfSigned(tb)
	ts.pool = x509.NewCertPool()
	ts.pool.AppendCertsFromPEM(pemBytes)
	ts.caFile = filepath.Join(tb.TempDir(), "ca.pem")
	require.NoError(tb, os.WriteFile(ts.caFile, pemBytes, 0o600))

	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &testSession{srv: ts, mechs: o.mechs, tls: isTLS, conn: c}, nil
	}))
	s.Domain = "mx.test"
	s.AllowInsecureAuth = o.insecureAuth
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	var l net.Listener
	var err error
	switch o.tls {
	case "tls":
		l, err = tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	case "none":
		l, err = net.Listen("tcp", "127.0.0.1:0")
	default:
		s.TLSConfig = tlsCfg
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(tb, err)
	ts.port = l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	tb.Cleanup(func() {
		ts.unblock()
		_ = s.Close()
		<-done
	})
	return ts
}

// config returns a channel Config pointing at the server.
func (ts *testServer) config(tlsMode string) Config {
	return Config{
		SMTPHost: ts.host,
		SMTPPort: ts.port,
		TLS:      tlsMode,
		From:     "Klaxon Alerts <alerts@example.com>",
		To:       []string{"oncall@example.org", "Ops Team <ops@example.org>"},
	}
}

// tlsOption trusts the server's certificate.
func (ts *testServer) tlsOption() Option { return WithTLSConfig(&tls.Config{RootCAs: ts.pool}) }

func (ts *testServer) received() []receivedMail {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]receivedMail(nil), ts.mails...)
}

// blockData makes the next DATA wait until the test ends; the returned
// channel is closed when a session is waiting.
func (ts *testServer) blockData() <-chan struct{} {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.block = make(chan struct{})
	ts.blocked = make(chan struct{})
	return ts.blocked
}

func (ts *testServer) unblock() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.block != nil {
		select {
		case <-ts.block:
		default:
			close(ts.block)
		}
	}
}

type testSession struct {
	srv   *testServer
	conn  *smtp.Conn
	mechs []string
	tls   bool
	user  string
	from  string
	to    []string
	mailN int
}

var _ smtp.AuthSession = (*testSession)(nil)

func (s *testSession) AuthMechanisms() []string { return s.mechs }

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.srv.user || pass != s.srv.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return &cramServer{secret: s.srv.pass, check: func(user string) error {
			if user != s.srv.user {
				return smtp.ErrAuthFailed
			}
			s.user = user
			return nil
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.mechs) > 0 && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.srv.mu.Lock()
	s.srv.mailN++
	s.mailN = s.srv.mailN
	hook := s.srv.onMail
	s.srv.mu.Unlock()
	if hook != nil {
		if err := hook(s.mailN); err != nil {
			return err
		}
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	hook := s.srv.onRcpt
	s.srv.mu.Unlock()
	if hook != nil {
		if err := hook(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	hook, block, blocked := s.srv.onData, s.srv.block, s.srv.blocked
	s.srv.mu.Unlock()
	if block != nil {
		close(blocked)
		<-block
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "too late"}
	}
	if hook != nil {
		if err := hook(s.mailN); err != nil {
			return err
		}
	}
	s.srv.mu.Lock()
	s.srv.mails = append(s.srv.mails, receivedMail{
		From: s.from, To: append([]string(nil), s.to...), Data: data, TLS: s.tls || isTLSConn(s.conn), User: s.user,
	})
	s.srv.mu.Unlock()
	return nil
}

func isTLSConn(c *smtp.Conn) bool {
	_, ok := c.TLSConnectionState()
	return ok
}

func (s *testSession) Reset() { s.from, s.to = "", nil }

func (s *testSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl only ships the
// client side).
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if resp != nil { // initial response carries the user name
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.step++
		l.user = string(resp)
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, false, errors.New("unexpected LOGIN step")
}

// cramServer is the server side of CRAM-MD5 (RFC 2195).
type cramServer struct {
	secret    string
	check     func(user string) error
	challenge []byte
}

func (c *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if c.challenge == nil {
		c.challenge = []byte("<1896.697170952@mx.test>")
		return c.challenge, false, nil
	}
	user, digest, ok := strings.Cut(string(resp), " ")
	if !ok {
		return nil, false, smtp.ErrAuthFailed
	}
	h := hmac.New(md5.New, []byte(c.secret))
	h.Write(c.challenge)
	if !hmac.Equal([]byte(hex.EncodeToString(h.Sum(nil))), []byte(digest)) {
		return nil, false, smtp.ErrAuthFailed
	}
	return nil, true, c.check(user)
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(tb testing.TB) (tls.Certificate, []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "klaxon test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(tb, err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemBytes
}

// waitClosed waits for ch or the test's context.
func waitClosed(tb testing.TB, ctx context.Context, ch <-chan struct{}) {
	tb.Helper()
	select {
	case <-ch:
	case <-ctx.Done():
		tb.Fatal("timed out waiting")
	}
}

// bytesContains is a short helper for raw message checks.
func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
