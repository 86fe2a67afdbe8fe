package webhook

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/secret"
)

// Body formats.
const (
	// FormatKlaxon is klaxon's own body (the default), described by
	// docs/webhook-payload.schema.json.
	FormatKlaxon = "klaxon"
	// FormatAlertmanager is Alertmanager's webhook body, version 4.
	FormatAlertmanager = "alertmanager"
)

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Signing secrets decode to this many bytes (Standard Webhooks: 24 to 64).
const (
	minSecretBytes = 24
	maxSecretBytes = 64
)

// secretPrefix is how Standard Webhooks shows symmetric secrets to users.
const secretPrefix = "whsec_"

// Config is a webhook channel's configuration: the `channels.NAME` keys of a
// channel of type webhook. The zero value of every optional field means the
// default documented on it. A Config is only read, never changed, by New.
type Config struct {
	// URL is where notifications go; required, http or https. It is a secret
	// because receivers often put a token in the path or query: it never
	// appears in errors or logs (only its scheme and host do).
	URL secret.String `yaml:"url"`
	// Method is POST (default) or PUT.
	Method string `yaml:"method"`
	// Headers are extra request headers. Their values may be credentials
	// ("Authorization: Bearer ..."), so they are secrets. They cannot set
	// the webhook-* headers, Host or Content-Length; they may replace
	// Content-Type and User-Agent.
	Headers map[string]secret.String `yaml:"headers"`
	// Secret is the Standard Webhooks signing secret, "whsec_" followed by
	// the base64 of 24 to 64 random bytes (the prefix is optional). When set,
	// every attempt carries a webhook-signature header. Empty: unsigned.
	Secret secret.String `yaml:"secret"`
	// Secrets lists more signing secrets, for rotation: the request carries
	// one signature per secret (Secret first), space-separated, and receivers
	// accept it if any verifies. Duplicates are signed once.
	Secrets []secret.String `yaml:"secrets"`
	// Timeout bounds each attempt (connect, send, answer); default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Format is the body: "klaxon" (default) or "alertmanager".
	Format string `yaml:"format"`
	// BodyTemplate, when set, is a Go text/template whose output replaces
	// the body (see the package documentation for its data and functions).
	// It is parsed by Validate; if it fails when a notification is sent,
	// the channel logs a warning and sends the format's default body.
	BodyTemplate string `yaml:"body_template"`
}

// WithDefaults returns c with zero optional fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Method == "" {
		c.Method = http.MethodPost
	} else {
		c.Method = strings.ToUpper(c.Method)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Format == "" {
		c.Format = FormatKlaxon
	}
	return c
}

// Validate checks the configuration. Each error's message starts with the
// YAML key it is about ("url: must be http or https"); several problems are
// joined with errors.Join. Messages never contain secret values.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf(key+": "+format, args...))
	}
	if c.URL.IsZero() {
		add("url", "is required")
	} else if err := checkURL(c.URL.Reveal()); err != nil {
		add("url", "%s", err.Error())
	}
	switch strings.ToUpper(c.Method) {
	case "", http.MethodPost, http.MethodPut:
	default:
		add("method", "must be POST or PUT, not %q", c.Method)
	}
	for name, v := range c.Headers {
		if err := checkHeader(name, v.Reveal()); err != nil {
			add("headers", "%s", err.Error())
		}
	}
	if !c.Secret.IsZero() {
		if _, err := decodeSecret(c.Secret.Reveal()); err != nil {
			add("secret", "%s", err.Error())
		}
	}
	for i, s := range c.Secrets {
		if _, err := decodeSecret(s.Reveal()); err != nil {
			add(fmt.Sprintf("secrets[%d]", i), "%s", err.Error())
		}
	}
	if c.Timeout < 0 {
		add("timeout", "must not be negative")
	}
	switch c.Format {
	case "", FormatKlaxon, FormatAlertmanager:
	default:
		add("format", "must be %q or %q, not %q", FormatKlaxon, FormatAlertmanager, c.Format)
	}
	if c.BodyTemplate != "" {
		if _, err := parseBodyTemplate(c.BodyTemplate); err != nil {
			add("body_template", "%s", err.Error())
		}
	}
	return errors.Join(errs...)
}

// checkURL accepts absolute http and https URLs with a host. Its messages
// never quote the URL.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must be http or https")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

// reservedHeaders cannot be set through Config.Headers (lower case).
var reservedHeaders = map[string]bool{
	"webhook-id":        true,
	"webhook-timestamp": true,
	"webhook-signature": true,
	"host":              true,
	"content-length":    true,
}

// checkHeader validates one custom header. Its messages name the header but
// never quote the value.
func checkHeader(name, value string) error {
	if name == "" {
		return errors.New("empty header name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("header name %q is not a valid HTTP token", name)
		}
	}
	if reservedHeaders[strings.ToLower(name)] {
		return fmt.Errorf("header %q is set by klaxon and cannot be configured", name)
	}
	for i := 0; i < len(value); i++ {
		if b := value[i]; b < ' ' && b != '\t' || b == 0x7f {
			return fmt.Errorf("header %q has a control character in its value", name)
		}
	}
	return nil
}

// isTokenChar reports whether b may appear in an HTTP header name (RFC 9110
// token).
func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// decodeSecret reads a Standard Webhooks symmetric secret ("whsec_" +
// standard base64, the prefix optional) into its HMAC key. Its messages never
// quote the secret.
func decodeSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, secretPrefix))
	if err != nil {
		return nil, errors.New(`must be "whsec_" followed by standard base64`)
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, fmt.Errorf("must decode to %d to %d bytes, not %d", minSecretBytes, maxSecretBytes, len(key))
	}
	return key, nil
}
