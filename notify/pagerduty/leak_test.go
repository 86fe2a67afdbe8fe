package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// TestSecretLeak checks that the routing key never shows in errors (also
// when PagerDuty echoes it, or when it sits in a URL net/http quotes), log
// output, receipts, or printed Config and Channel values.
func TestSecretLeak(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var out []string
	record := func(rc notify.Receipt, err error) {
		out = append(out, rc.Detail)
		if err != nil {
			out = append(out, err.Error(), notify.Describe(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}

	// Answers that echo the key.
	for _, code := range []int{202, 400, 429, 500} {
		f := newFakePD(t)
		f.respond = func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) bool {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, code, map[string]any{"status": "invalid " + testKey, "message": "routing key " + testKey,
				"errors": []string{"unknown routing_key " + testKey}})
			return true
		}
		ch := newChannel(t, f, Config{}, WithLogger(log))
		record(ch.Send(t.Context(), notification(notify.EventActive, firingAlert())))
		// A non-JSON answer that echoes the key.
		f.respond = func(w http.ResponseWriter, _ *http.Request, _ map[string]any, _ int) bool {
			w.WriteHeader(code)
			_, _ = w.Write([]byte("<p>bad key " + testKey + "</p>"))
			return true
		}
		record(ch.Send(t.Context(), notification(notify.EventActive, firingAlert())))
		out = append(out, fmt.Sprintf("%v", ch), fmt.Sprintf("%+v", ch), fmt.Sprintf("%#v", ch), fmt.Sprintf("%s", ch))
	}

	// The key in the URL of an unreachable server: *url.Error would quote it.
	f := newFakePD(t)
	u := f.srv.URL + "/v2/enqueue/" + testKey + "?key=" + testKey
	f.srv.Close()
	cfg := Config{RoutingKey: secret.New(testKey), EventsURL: u}
	ch, err := New("pager", cfg, WithLogger(log))
	require.NoError(t, err)
	record(ch.Send(t.Context(), notification(notify.EventActive, firingAlert())))
	out = append(out, fmt.Sprintf("%+v", ch), fmt.Sprintf("%#v", ch))

	// Printed configuration (the key only where it belongs).
	cfg = Config{RoutingKey: secret.New(testKey), EventsURL: EUEventsURL, SeverityMap: map[string]string{"high": "error"}}
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	out = append(out, fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), string(js), fmt.Sprint(&cfg))
	log.Info("config", slog.Any("config", cfg), slog.Any("channel", ch))

	// Invalid configuration.
	bad := Config{RoutingKey: secret.New(testKey + " x"), EventsURL: "ftp://" + testKey}
	_, err = New("pager", bad)
	require.Error(t, err)
	out = append(out, err.Error())

	out = append(out, logs.String())
	require.NotEmpty(t, logs.String())
	for _, s := range out {
		require.NotContains(t, s, testKey)
	}
	require.True(t, strings.Contains(strings.Join(out, "\n"), secret.Redacted), "the placeholder shows where the key was")
}
