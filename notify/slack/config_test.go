package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/secret"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	tok := secret.New(testToken)
	hook := secret.New("https://hooks.slack.com/services/T000/B000/XXXXsecretPATHxxxx")
	tests := []struct {
		name string
		cfg  Config
		want []string // messages, in order; empty: valid
	}{
		// Web API mode.
		{"web api", Config{Token: tok, Channel: "#alerts"}, nil},
		// Webhook mode.
		{"webhook", Config{WebhookURL: hook}, nil},
		// Every optional key set.
		{"all keys", Config{Token: tok, Channel: "C1", APIURL: "http://127.0.0.1:9/api", Username: "klaxon",
			IconEmoji: ":bell:", Timeout: time.Second}, nil},
		// Nothing set.
		{"empty", Config{}, []string{"token: required (with channel), or set webhook_url"}},
		// Both modes at once.
		{"both modes", Config{Token: tok, Channel: "C1", WebhookURL: hook},
			[]string{"webhook_url: set either webhook_url or token and channel, not both"}},
		// Token without channel.
		{"no channel", Config{Token: tok}, []string{"channel: required with token"}},
		// Channel without token.
		{"no token", Config{Channel: "C1"}, []string{"token: required with channel"}},
		// A webhook URL that is not http(s).
		{"bad webhook", Config{WebhookURL: secret.New("hooks.slack.com/services/x")},
			[]string{"webhook_url: must be an absolute http or https URL"}},
		// Several problems are all reported.
		{"several", Config{Token: secret.New("xoxb bad"), Channel: "C1", APIURL: "ftp://x", IconEmoji: "bell", Timeout: -time.Second},
			[]string{"token: must not contain white space", "api_url: must be an absolute http or https URL",
				"icon_emoji: must look like :name:", "timeout: must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.Equal(t, strings.Join(tt.want, "\n"), err.Error())
			require.NotContains(t, err.Error(), "secretPATH")
			var fe *FieldError
			require.True(t, errors.As(err, &fe))
			require.True(t, strings.HasPrefix(err.Error(), fe.Field+": "))
			_, nerr := New("x", tt.cfg)
			require.ErrorIs(t, nerr, ErrInvalidConfig)
		})
	}
}

func TestConfig_WithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      Config
		wantURL string
	}{
		// Zero means Slack's own API.
		{"default", Config{}, "https://slack.com/api/"},
		// A missing trailing slash is added.
		{"slash added", Config{APIURL: "http://127.0.0.1:8080/api"}, "http://127.0.0.1:8080/api/"},
		// A trailing slash is kept.
		{"slash kept", Config{APIURL: "http://127.0.0.1:8080/"}, "http://127.0.0.1:8080/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.in.WithDefaults()
			require.Equal(t, tt.wantURL, got.APIURL)
			require.Equal(t, DefaultTimeout, got.Timeout)
		})
	}
}

// TestConfig_YAML checks the documented keys decode.
func TestConfig_YAML(t *testing.T) {
	t.Parallel()
	const doc = `
token: xoxb-1111-2222-SECRETtokenVALUE
channel: "#alerts"
api_url: http://127.0.0.1:9/api
username: klaxon
icon_emoji: ":rotating_light:"
timeout: 5s
`
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg))
	require.Equal(t, testToken, cfg.Token.Reveal())
	require.Equal(t, "#alerts", cfg.Channel)
	require.Equal(t, "http://127.0.0.1:9/api", cfg.APIURL)
	require.Equal(t, "klaxon", cfg.Username)
	require.Equal(t, ":rotating_light:", cfg.IconEmoji)
	require.Equal(t, 5*time.Second, cfg.Timeout)
	require.NoError(t, cfg.Validate())

	var hook Config
	require.NoError(t, yaml.Unmarshal([]byte("webhook_url: https://hooks.slack.com/services/T/B/s3cr3tpath\n"), &hook))
	require.Equal(t, "https://hooks.slack.com/services/T/B/s3cr3tpath", hook.WebhookURL.Reveal())
}

// TestSecrets_NeverShown checks that the token and the webhook URL appear in
// no error, log line or printed value.
func TestSecrets_NeverShown(t *testing.T) {
	t.Parallel()
	const hookSecret = "XXXXsecretPATHxxxx"
	// A server that fails every call, so errors are produced.
	srv := httptest.NewServer(http.HandlerFunc(answer{200, "", `{"ok":false,"error":"message_not_found"}`}.serve))
	t.Cleanup(srv.Close)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, _ := newRecordingClient(t)
	apiCfg := Config{Token: secret.New(testToken), Channel: "C0ALERTS", APIURL: srv.URL}
	hookCfg := Config{WebhookURL: secret.New(deadURL + "/services/T000/B000/" + hookSecret)}
	api, err := New("api", apiCfg, WithHTTPClient(client), WithLogger(logger))
	require.NoError(t, err)
	hook, err := New("hook", hookCfg, WithHTTPClient(client), WithLogger(logger))
	require.NoError(t, err)

	var shown []string
	// The update fails, the fallback logs, then the post fails too.
	_, err = api.Send(t.Context(), testNotification(alert.StateResolved, "C0ALERTS:1.2"))
	require.Error(t, err)
	shown = append(shown, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	_, err = hook.Send(t.Context(), testNotification(alert.StateActive, ""))
	require.Error(t, err)
	shown = append(shown, err.Error(), fmt.Sprintf("%+v", err))
	for _, v := range []any{apiCfg, hookCfg, &apiCfg, api, hook, *api, *hook} {
		shown = append(shown, fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprint(v))
		logger.Info("value", "v", v)
	}
	for _, cfg := range []Config{apiCfg, hookCfg} {
		j, err := json.Marshal(cfg)
		require.NoError(t, err)
		shown = append(shown, string(j))
	}
	shown = append(shown, logs.String())
	require.Contains(t, logs.String(), "posting a new one", "the fallback was logged")

	for _, s := range shown {
		require.NotContains(t, s, testToken)
		require.NotContains(t, s, "SECRETtoken")
		require.NotContains(t, s, hookSecret)
	}
}
