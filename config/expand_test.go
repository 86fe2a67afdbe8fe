package config

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/stretchr/testify/require"
)

func TestExpandEnv(t *testing.T) {
	t.Parallel()
	env := envFunc(map[string]string{"HOST": "mx.example.com", "PORT": "587", "EMPTY": ""})
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},                                        // nothing to do
		{in: "${HOST}", want: "mx.example.com"},                             // whole value
		{in: "smtp://${HOST}:${PORT}/", want: "smtp://mx.example.com:587/"}, // inside text
		{in: "${MISSING:-fallback}", want: "fallback"},                      // default
		{in: "${EMPTY:-fallback}", want: "fallback"},                        // empty counts as unset
		{in: "${MISSING:-}", want: ""},                                      // explicit empty default
		{in: "${HOST:-x}", want: "mx.example.com"},                          // set wins over default
		{in: "$$HOST costs $$5", want: "$HOST costs $5"},                    // escapes
		{in: "$HOST and $", want: "$HOST and $"},                            // bare $ stays
		{in: "${MISSING}", err: "environment variable MISSING is not set (use ${MISSING:-default} for a default)"},
		{in: "${A}${B}", err: "environment variables A, B are not set"}, // all missing named
		{in: "${HOST", err: `unterminated ${ in "${HOST" (write $$ for a literal $)`},
		{in: "${1X}", err: `invalid variable name "1X" in ${1X}`},
		{in: "${}", err: `invalid variable name "" in ${}`},
	}
	for _, tt := range tests {
		got, err := expandEnv(tt.in, env)
		if tt.err != "" {
			require.EqualError(t, err, tt.err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
}

func TestParse_ExpansionTypes(t *testing.T) {
	t.Parallel()
	src := `evaluation_interval: ${EVERY}
history:
  max_resolved: ${KEEP}
server:
  data_dir: "${DIR:-/var/lib/klaxon}"
  external_url: '$${literal}'
channels:
  c:
    type: console
    disabled: ${OFF}
`
	env := map[string]string{"EVERY": "2m", "KEEP": "42", "OFF": "true"}
	cfg, err := Parse("klaxon.yml", []byte(src), fakeOpts(env))
	require.Error(t, err)                                                                 // external_url is not a URL: shows that $$ stayed literal
	require.Contains(t, err.Error(), `server.external_url: invalid URL "$%7Bliteral%7D"`) // ${literal}, escaped

	src = src[:len(src)-len("  external_url: '$${literal}'\nchannels:\n  c:\n    type: console\n    disabled: ${OFF}\n")] +
		"channels:\n  c:\n    type: console\n    disabled: ${OFF}\n"
	cfg, err = Parse("klaxon.yml", []byte(src), fakeOpts(env))
	require.NoError(t, err)
	require.Equal(t, 2*time.Minute, cfg.EvaluationInterval)
	require.Equal(t, 42, cfg.History.MaxResolved) // an unquoted expansion is a number
	require.Equal(t, "/var/lib/klaxon", cfg.Server.DataDir)
	require.True(t, cfg.Channels["c"].Disabled) // and a boolean
}

func TestRetry_ConvertsToNotify(t *testing.T) {
	t.Parallel()
	// Retry mirrors notify.RetryPolicy field for field.
	r := Retry{MaxAttempts: 3}.WithDefaults()
	p := notify.RetryPolicy(r)
	require.Equal(t, 3, p.MaxAttempts)
	require.Equal(t, DefaultMaxAge, p.MaxAge)
}
