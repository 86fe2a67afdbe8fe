package email

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/secret"
)

// TLS policies (Config.TLS).
const (
	// TLSStartTLS connects in plaintext and requires STARTTLS before
	// anything else is sent (RFC 3207); a server that does not offer it is
	// refused, never silently used in cleartext. Default except on port 465.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (RFC 8314, port 465).
	// Default on port 465.
	TLSImplicit = "tls"
	// TLSNone sends everything in cleartext. Only for local relays; AUTH is
	// refused over it unless smtp_host is a loopback address.
	TLSNone = "none"
)

// AUTH mechanisms (Config.Auth).
const (
	// AuthPlain is SASL PLAIN (RFC 4616), the default when a username is set.
	AuthPlain = "plain"
	// AuthLogin is the non-standard LOGIN mechanism some Microsoft and legacy
	// servers need.
	AuthLogin = "login"
	// AuthCRAMMD5 is CRAM-MD5 (RFC 2195); weak, only for servers that need it.
	AuthCRAMMD5 = "cram-md5"
)

// Defaults applied by WithDefaults.
const (
	// DefaultTimeout bounds one attempt (connect, TLS, AUTH, the whole SMTP
	// transaction) when Config.Timeout is zero.
	DefaultTimeout = 10 * time.Second
	// DefaultPort is the submission port (RFC 6409), used with STARTTLS.
	DefaultPort = 587
	// DefaultImplicitTLSPort is the submissions port (RFC 8314), used when
	// tls is "tls" and no port is set.
	DefaultImplicitTLSPort = 465
	// DefaultPlainPort is the SMTP relay port, used when tls is "none" and
	// no port is set.
	DefaultPlainPort = 25
)

// Config is an email channel's configuration: the `channels.NAME` keys of a
// channel of type email. The zero value of every optional field means the
// default documented on it. A Config is only read, never changed, by New.
type Config struct {
	// SMTPHost is the SMTP server's host name or IP address; required. It is
	// also the name the server certificate must match.
	SMTPHost string `yaml:"smtp_host"`
	// SMTPPort is the server's port. Zero means 465 when TLS is "tls", 25
	// when TLS is "none", else 587.
	SMTPPort int `yaml:"smtp_port"`
	// TLS is the transport policy: "starttls", "tls" (implicit TLS) or
	// "none". Empty means "tls" when SMTPPort is 465, else "starttls".
	TLS string `yaml:"tls"`
	// CAFile is a PEM file of CA certificates to trust instead of the
	// system pool (a private relay's CA). Read by New.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify turns off server certificate verification. It
	// keeps the link encrypted but not authenticated; for tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// Username enables SMTP AUTH; empty means no AUTH.
	Username string `yaml:"username"`
	// Password is the AUTH password (or app password). It never appears in
	// errors, logs or formatted output. Required when Username is set.
	Password secret.String `yaml:"password"`
	// Auth is the AUTH mechanism: "plain" (default), "login" or
	// "cram-md5". Only used when Username is set.
	Auth string `yaml:"auth"`
	// From is the sender, an RFC 5322 address with an optional display name
	// ("Klaxon <alerts@example.com>"); required. Its domain is the right-hand
	// side of generated Message-IDs.
	From string `yaml:"from"`
	// To lists the recipients; at least one is required.
	To []string `yaml:"to"`
	// Timeout bounds each attempt; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// HelloName is the name sent in EHLO; empty means the machine's host
	// name.
	HelloName string `yaml:"hello_name"`
}

// WithDefaults returns c with zero optional fields set to their defaults.
// Values are also normalised (TLS and Auth lower-cased).
func (c Config) WithDefaults() Config {
	c.TLS = strings.ToLower(strings.TrimSpace(c.TLS))
	c.Auth = strings.ToLower(strings.TrimSpace(c.Auth))
	c.SMTPHost = strings.TrimSpace(c.SMTPHost)
	if c.TLS == "" {
		if c.SMTPPort == DefaultImplicitTLSPort {
			c.TLS = TLSImplicit
		} else {
			c.TLS = TLSStartTLS
		}
	}
	if c.SMTPPort == 0 {
		switch c.TLS {
		case TLSImplicit:
			c.SMTPPort = DefaultImplicitTLSPort
		case TLSNone:
			c.SMTPPort = DefaultPlainPort
		default:
			c.SMTPPort = DefaultPort
		}
	}
	if c.Auth == "" && c.Username != "" {
		c.Auth = AuthPlain
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate checks the configuration. Each error's message starts with the
// YAML key it is about ("to: at least one recipient is required"); several
// problems are joined with errors.Join. Messages never contain the password.
// Validate accepts zero optional fields (they mean their defaults) and does
// not read CAFile; New does.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf(key+": "+format, args...))
	}
	d := c.WithDefaults()
	switch {
	case d.SMTPHost == "":
		add("smtp_host", "is required")
	case strings.ContainsAny(d.SMTPHost, " \t\r\n/:") && net.ParseIP(d.SMTPHost) == nil:
		add("smtp_host", "must be a host name or IP address without port or scheme, not %q", d.SMTPHost)
	}
	if d.SMTPPort < 1 || d.SMTPPort > 65535 {
		add("smtp_port", "must be between 1 and 65535, not %d", c.SMTPPort)
	}
	switch d.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		add("tls", "must be %q, %q or %q, not %q", TLSStartTLS, TLSImplicit, TLSNone, c.TLS)
	}
	if d.TLS == TLSNone && (d.CAFile != "" || d.InsecureSkipVerify) {
		add("tls", "is %q, so ca_file and insecure_skip_verify have no effect; remove them or use %q or %q",
			TLSNone, TLSStartTLS, TLSImplicit)
	}
	switch {
	case d.Username == "" && !d.Password.IsZero():
		add("username", "is required when password is set")
	case d.Username != "" && d.Password.IsZero():
		add("password", "is required when username is set")
	}
	if d.Username == "" && c.Auth != "" {
		add("auth", "needs username and password")
	}
	switch d.Auth {
	case "", AuthPlain, AuthLogin, AuthCRAMMD5:
	default:
		add("auth", "must be %q, %q or %q, not %q", AuthPlain, AuthLogin, AuthCRAMMD5, c.Auth)
	}
	if d.TLS == TLSNone && d.Username != "" && d.SMTPHost != "" && !isLoopback(d.SMTPHost) {
		add("tls", "is %q, which would send the password in cleartext to %s; "+
			"AUTH without TLS is only allowed to a loopback host: use tls %q or %q, or remove username and password",
			TLSNone, d.SMTPHost, TLSStartTLS, TLSImplicit)
	}
	if c.From == "" {
		add("from", "is required")
	} else if _, err := parseAddress(c.From); err != nil {
		add("from", "%s", err.Error())
	}
	if len(c.To) == 0 {
		add("to", "at least one recipient is required")
	}
	for i, to := range c.To {
		if _, err := parseAddress(to); err != nil {
			add(fmt.Sprintf("to[%d]", i), "%s", err.Error())
		}
	}
	if c.Timeout < 0 {
		add("timeout", "must not be negative")
	}
	if strings.ContainsAny(c.HelloName, " \t\r\n") {
		add("hello_name", "must be a host name without spaces, not %q", c.HelloName)
	}
	return errors.Join(errs...)
}

// parseAddress reads one RFC 5322 address. Addresses must be ASCII: klaxon
// does not use SMTPUTF8 (display names may be any UTF-8).
func parseAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("invalid address %q: %w", s, err)
	}
	for _, r := range a.Address {
		if r > 0x7e || r < 0x21 {
			return nil, fmt.Errorf("address %q must be ASCII (SMTPUTF8 is not supported)", a.Address)
		}
	}
	return a, nil
}

// isLoopback reports whether host is "localhost" or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// tlsConfig builds the client TLS configuration from base (WithTLSConfig, or
// a fresh one), the CA file and InsecureSkipVerify.
func (c *Config) tlsConfig(base *tls.Config) (*tls.Config, error) {
	var tc *tls.Config
	if base != nil {
		tc = base.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = strings.Trim(c.SMTPHost, "[]")
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: no PEM certificates in %s", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.InsecureSkipVerify {
		tc.InsecureSkipVerify = true
	}
	return tc, nil
}
