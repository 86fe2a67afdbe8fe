package email

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/secret"
)

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

func validConfig() Config {
	return Config{SMTPHost: "smtp.example.com", From: "Alerts <alerts@example.com>", To: []string{"ops@example.com"}}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // "" means valid; else the error's start
	}{
		// The minimal config: host, from, to.
		{name: "minimal", modify: func(*Config) {}},
		// Submission with AUTH over STARTTLS.
		{name: "auth starttls", modify: func(c *Config) {
			c.Username, c.Password, c.Auth = "u", secret.New("p"), "LOGIN"
		}},
		{name: "no host", modify: func(c *Config) { c.SMTPHost = "" }, want: "smtp_host: is required"},
		// A URL is not a host.
		{name: "host with scheme", modify: func(c *Config) { c.SMTPHost = "smtp://x" }, want: "smtp_host: must be a host name"},
		{name: "bad port", modify: func(c *Config) { c.SMTPPort = 70000 }, want: "smtp_port: must be between"},
		{name: "bad tls", modify: func(c *Config) { c.TLS = "ssl" }, want: `tls: must be "starttls", "tls" or "none"`},
		// ca_file with tls none is a mistake worth reporting.
		{name: "ca with none", modify: func(c *Config) { c.TLS, c.CAFile = TLSNone, "/x.pem" }, want: `tls: is "none", so ca_file`},
		{name: "password without user", modify: func(c *Config) { c.Password = secret.New("p") }, want: "username: is required when password is set"},
		{name: "user without password", modify: func(c *Config) { c.Username = "u" }, want: "password: is required when username is set"},
		{name: "auth without user", modify: func(c *Config) { c.Auth = AuthPlain }, want: "auth: needs username and password"},
		{name: "bad auth", modify: func(c *Config) {
			c.Username, c.Password, c.Auth = "u", secret.New("p"), "xoauth2"
		}, want: `auth: must be "plain", "login" or "cram-md5"`},
		// AUTH in cleartext to a remote host is refused, naming tls and password.
		{name: "cleartext auth remote", modify: func(c *Config) {
			c.TLS, c.Username, c.Password = TLSNone, "u", secret.New("p")
		}, want: `tls: is "none", which would send the password in cleartext to smtp.example.com`},
		// ...but allowed to a loopback relay.
		{name: "cleartext auth loopback", modify: func(c *Config) {
			c.SMTPHost, c.TLS, c.Username, c.Password = "127.0.0.1", TLSNone, "u", secret.New("p")
		}},
		{name: "no from", modify: func(c *Config) { c.From = "" }, want: "from: is required"},
		{name: "bad from", modify: func(c *Config) { c.From = "not an address" }, want: `from: invalid address "not an address"`},
		// Non-ASCII addresses would need SMTPUTF8.
		{name: "utf8 address", modify: func(c *Config) { c.From = "jörg@example.com" }, want: "from: "},
		{name: "no to", modify: func(c *Config) { c.To = nil }, want: "to: at least one recipient is required"},
		{name: "bad to", modify: func(c *Config) { c.To = []string{"ok@example.com", "@@"} }, want: "to[1]: invalid address"},
		{name: "negative timeout", modify: func(c *Config) { c.Timeout = -time.Second }, want: "timeout: must not be negative"},
		{name: "bad hello", modify: func(c *Config) { c.HelloName = "a b" }, want: "hello_name: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tt.want), err.Error())
		})
	}
}

func TestConfig_WithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		port            int
		tls             string
		wantPort        int
		wantTLS         string
		user, wantAuth  string
		timeout, wantTO time.Duration
	}{
		// Nothing set: submission port with STARTTLS.
		{name: "zero", wantPort: 587, wantTLS: TLSStartTLS, wantTO: DefaultTimeout},
		// Port 465 implies implicit TLS.
		{name: "465", port: 465, wantPort: 465, wantTLS: TLSImplicit, wantTO: DefaultTimeout},
		// Port 25 still defaults to STARTTLS (mandatory).
		{name: "25", port: 25, wantPort: 25, wantTLS: TLSStartTLS, wantTO: DefaultTimeout},
		// tls: tls without a port picks 465.
		{name: "tls", tls: "TLS", wantPort: 465, wantTLS: TLSImplicit, wantTO: DefaultTimeout},
		// tls: none without a port picks 25.
		{name: "none", tls: "none", wantPort: 25, wantTLS: TLSNone, wantTO: DefaultTimeout},
		// A username defaults the mechanism to PLAIN; timeout kept.
		{name: "user", user: "u", wantPort: 587, wantTLS: TLSStartTLS, wantAuth: AuthPlain, timeout: time.Second, wantTO: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Config{SMTPPort: tt.port, TLS: tt.tls, Username: tt.user, Timeout: tt.timeout}.WithDefaults()
			require.Equal(t, tt.wantPort, c.SMTPPort)
			require.Equal(t, tt.wantTLS, c.TLS)
			require.Equal(t, tt.wantAuth, c.Auth)
			require.Equal(t, tt.wantTO, c.Timeout)
		})
	}
}

func TestConfig_YAML(t *testing.T) {
	t.Parallel()
	const doc = `
smtp_host: smtp.example.com
smtp_port: 587
tls: starttls
ca_file: /etc/ssl/relay.pem
insecure_skip_verify: false
username: alerts@example.com
password: s3cr3t-app-password
auth: login
from: "Klaxon <alerts@example.com>"
to: [ops@example.com, "Dev <dev@example.com>"]
timeout: 15s
hello_name: klaxon.example.com
`
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(doc), &c))
	require.Equal(t, Config{
		SMTPHost: "smtp.example.com", SMTPPort: 587, TLS: TLSStartTLS, CAFile: "/etc/ssl/relay.pem",
		Username: "alerts@example.com", Password: secret.New("s3cr3t-app-password"), Auth: AuthLogin,
		From: "Klaxon <alerts@example.com>", To: []string{"ops@example.com", "Dev <dev@example.com>"},
		Timeout: 15 * time.Second, HelloName: "klaxon.example.com",
	}, c)
	require.NoError(t, c.Validate())
}
