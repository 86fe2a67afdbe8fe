package webhook

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/secret"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	valid := func() Config { return Config{URL: secret.New("https://hooks.example.com/x")} }

	tests := []struct {
		name   string
		mutate func(c *Config)
		// want lists substrings of the error; empty means valid.
		want []string
	}{
		// The minimal configuration.
		{name: "minimal", mutate: func(*Config) {}},
		// Every option set.
		{name: "full", mutate: func(c *Config) {
			c.Method = "put"
			c.Headers = map[string]secret.String{"Authorization": secret.New("Bearer x"), "Content-Type": secret.New("text/plain")}
			c.Secret = secret.New(testSecret('a', 32))
			c.Secrets = []secret.String{secret.New(testSecret('b', 24)), secret.New(testSecret('c', 64)[len("whsec_"):])}
			c.Timeout = 30 * time.Second
			c.Format = FormatAlertmanager
			c.BodyTemplate = `{{ json .Payload }}`
		}},
		// url is required.
		{name: "no url", mutate: func(c *Config) { c.URL = secret.String{} }, want: []string{"url: is required"}},
		// Only http and https.
		{name: "ftp url", mutate: func(c *Config) { c.URL = secret.New("ftp://host/x") }, want: []string{"url: must be http or https"}},
		// A relative URL has no scheme.
		{name: "relative url", mutate: func(c *Config) { c.URL = secret.New("/hook") }, want: []string{"url: must be http or https"}},
		// A host is needed.
		{name: "no host", mutate: func(c *Config) { c.URL = secret.New("http:///hook") }, want: []string{"url: has no host"}},
		// GET cannot carry a body.
		{name: "bad method", mutate: func(c *Config) { c.Method = "GET" }, want: []string{`method: must be POST or PUT, not "GET"`}},
		// The webhook-* headers are klaxon's.
		{name: "reserved header", mutate: func(c *Config) {
			c.Headers = map[string]secret.String{"Webhook-Id": secret.New("x")}
		}, want: []string{`headers: header "Webhook-Id" is set by klaxon`}},
		// Header names are tokens.
		{name: "bad header name", mutate: func(c *Config) {
			c.Headers = map[string]secret.String{"X Team": secret.New("x")}
		}, want: []string{`headers: header name "X Team" is not a valid HTTP token`}},
		// Header values cannot smuggle more headers.
		{name: "header injection", mutate: func(c *Config) {
			c.Headers = map[string]secret.String{"X-Team": secret.New("a\r\nX-Evil: 1")}
		}, want: []string{`headers: header "X-Team" has a control character`}},
		// A secret that is not base64.
		{name: "secret not base64", mutate: func(c *Config) { c.Secret = secret.New("whsec_!!!") },
			want: []string{`secret: must be "whsec_" followed by standard base64`}},
		// A secret that is too short.
		{name: "secret too short", mutate: func(c *Config) { c.Secret = secret.New(testSecret('a', 8)) },
			want: []string{"secret: must decode to 24 to 64 bytes, not 8"}},
		// Rotation secrets are checked one by one.
		{name: "bad rotation secret", mutate: func(c *Config) {
			c.Secrets = []secret.String{secret.New(testSecret('a', 32)), secret.New(testSecret('a', 65))}
		}, want: []string{"secrets[1]: must decode to 24 to 64 bytes, not 65"}},
		// A negative timeout.
		{name: "negative timeout", mutate: func(c *Config) { c.Timeout = -time.Second }, want: []string{"timeout: must not be negative"}},
		// Unknown format.
		{name: "bad format", mutate: func(c *Config) { c.Format = "slack" }, want: []string{`format: must be "klaxon" or "alertmanager", not "slack"`}},
		// A template that does not parse.
		{name: "bad template", mutate: func(c *Config) { c.BodyTemplate = "{{ .Alert" }, want: []string{"body_template: "}},
		// An unknown template function.
		{name: "unknown function", mutate: func(c *Config) { c.BodyTemplate = "{{ nope .Alert }}" },
			want: []string{`body_template: `, `function "nope" not defined`}},
		// Several problems are all reported.
		{name: "several", mutate: func(c *Config) { c.URL = secret.String{}; c.Format = "x"; c.Timeout = -1 },
			want: []string{"url: is required", "format: ", "timeout: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				key, _, ok := strings.Cut(line, ": ")
				require.True(t, ok, "each message starts with its key: %q", line)
				require.NotContains(t, key, " ", "each message starts with its key: %q", line)
			}
			_, err = New("x", c)
			require.Error(t, err, "New validates")
		})
	}
}

func TestConfig_WithDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Method: "put"}.WithDefaults()
	require.Equal(t, "PUT", c.Method)
	require.Equal(t, 10*time.Second, c.Timeout)
	require.Equal(t, FormatKlaxon, c.Format)
	require.Equal(t, "POST", Config{}.WithDefaults().Method)
}

func TestConfig_YAML(t *testing.T) {
	t.Parallel()
	const doc = `
url: https://hooks.example.com/T0K3N
method: PUT
headers:
  Authorization: Bearer abc
secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
secrets: [whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw]
timeout: 15s
format: alertmanager
body_template: '{{ json .Payload }}'
`
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(doc), &c))
	require.NoError(t, c.Validate())
	require.Equal(t, "https://hooks.example.com/T0K3N", c.URL.Reveal())
	require.Equal(t, "PUT", c.Method)
	require.Equal(t, "Bearer abc", c.Headers["Authorization"].Reveal())
	require.Equal(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", c.Secret.Reveal())
	require.Len(t, c.Secrets, 1)
	require.Equal(t, 15*time.Second, c.Timeout)
	require.Equal(t, FormatAlertmanager, c.Format)
	require.Equal(t, "{{ json .Payload }}", c.BodyTemplate)
}
