package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// Secret values used by the leak test; none may appear anywhere visible.
const (
	leakUser   = "hookuserLEAK"
	leakPass   = "pa55w0rdLEAK"
	leakPath   = "t0kenPATHLEAK"
	leakQuery  = "qu3ryLEAK"
	leakHeader = "h3aderVALUELEAK"
)

var leakSigningKey = base64.StdEncoding.EncodeToString([]byte("signingKEYLEAK-0123456789abcdef"))

func leakSecrets() []string {
	basic := base64.StdEncoding.EncodeToString([]byte(leakUser + ":" + leakPass))
	return []string{leakUser, leakPass, leakPath, leakQuery, leakHeader, leakSigningKey, basic}
}

func requireNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range leakSecrets() {
		require.NotContains(t, text, s, "%s leaks a secret: %s", what, text)
	}
}

// echo answers with everything it received, as some receivers do in errors.
func echo(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.String())
		_ = r.Header.Write(&b)
		if code >= 300 && code < 400 {
			w.Header().Set("Location", r.URL.String())
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(b.String()))
	}
}

func TestChannel_LeaksNoSecret(t *testing.T) {
	t.Parallel()

	secretURL := func(base string) string {
		u, err := url.Parse(base)
		require.NoError(t, err)
		u.User = url.UserPassword(leakUser, leakPass)
		u.Path = "/hooks/" + leakPath
		u.RawQuery = "token=" + leakQuery
		return u.String()
	}
	cfgFor := func(rawURL string, extra func(*Config)) Config {
		cfg := Config{
			URL:     secret.New(rawURL),
			Headers: map[string]secret.String{"Authorization": secret.New("Bearer " + leakHeader)},
			Secret:  secret.New("whsec_" + leakSigningKey),
			Secrets: []secret.String{secret.New(leakSigningKey)},
			Timeout: time.Second,
		}
		if extra != nil {
			extra(&cfg)
		}
		return cfg
	}

	tests := []struct {
		name    string
		handler http.HandlerFunc
		refused bool
		timeout time.Duration
		extra   func(*Config)
	}{
		// A 500 whose body echoes the URL and the headers.
		{name: "echoed 500", handler: echo(500)},
		// A 400 echoing the request (permanent path).
		{name: "echoed 400", handler: echo(400)},
		// A 401 echoing only the credentials it rejected.
		{name: "echoed token", handler: func(w http.ResponseWriter, r *http.Request) {
			_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			user, pass, _ := r.BasicAuth()
			http.Error(w, "bad token "+token+" user "+user+" password "+pass, http.StatusUnauthorized)
		}},
		// A redirect to the same secret URL.
		{name: "redirect", handler: echo(302)},
		// net/http's *url.Error quotes the URL on connection errors.
		{name: "connection refused", refused: true},
		// ... and on timeouts.
		{name: "timeout", timeout: 30 * time.Millisecond},
		// A failing body template is logged.
		{name: "template failure", handler: echo(200), extra: func(c *Config) { c.BodyTemplate = `{{ .Alert.Labels.nope }}` }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			handler := tt.handler
			if tt.timeout > 0 {
				release := make(chan struct{})
				defer close(release)
				handler = func(_ http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-release:
					}
				}
			}
			rcv := newReceiver(t, handler)
			raw := secretURL(rcv.URL)
			if tt.refused {
				rcv.Close()
			}
			cfg := cfgFor(raw, tt.extra)
			if tt.timeout > 0 {
				cfg.Timeout = tt.timeout
			}
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ch, err := New("ops", cfg, WithLogger(logger))
			require.NoError(t, err)

			receipt, err := ch.Send(t.Context(), activeNotification())
			if err != nil {
				requireNoSecret(t, "error", err.Error())
				requireNoSecret(t, "described error", notify.Describe(err))
				requireNoSecret(t, "error %+v", fmt.Sprintf("%+v %#v", err, err))
			}
			requireNoSecret(t, "receipt", fmt.Sprintf("%+v", receipt))
			if !tt.refused && tt.timeout == 0 {
				// The request itself did carry the secrets.
				req := rcv.next(t)
				require.Equal(t, "Bearer "+leakHeader, req.Header.Get("Authorization"))
				require.Contains(t, req.Path, leakPath)
			}

			logger.Info("dump", "channel", ch, "config", cfg)
			requireNoSecret(t, "log", logs.String())
			requireNoSecret(t, "fmt", fmt.Sprintf("%+v %#v %v %s", ch, cfg, ch, &cfg))
			requireNoSecret(t, "fmt", fmt.Sprintf("%+v %#v", ch, cfg))
			js, err := json.Marshal(cfg)
			require.NoError(t, err)
			requireNoSecret(t, "json", string(js))
		})
	}
}

func TestConfig_Validate_LeaksNoSecret(t *testing.T) {
	t.Parallel()
	cfg := Config{
		URL:     secret.New("ftp://" + leakUser + ":" + leakPass + "@host/" + leakPath + "?t=" + leakQuery),
		Headers: map[string]secret.String{"Bad\nName": secret.New(leakHeader), "X-Ok": secret.New(leakHeader + "\r\n")},
		Secret:  secret.New("whsec_" + leakSigningKey + "!!"),
		Secrets: []secret.String{secret.New(leakSigningKey[:8])},
	}
	err := cfg.Validate()
	require.Error(t, err)
	requireNoSecret(t, "validation error", err.Error())
	_, err = New("ops", cfg)
	require.Error(t, err)
	requireNoSecret(t, "New error", err.Error())

	// An unparsable URL (bad escape) is not echoed either.
	cfg = Config{URL: secret.New("http://host/%zz" + leakPath)}
	err = cfg.Validate()
	require.ErrorContains(t, err, "url: ")
	requireNoSecret(t, "validation error", err.Error())
}
