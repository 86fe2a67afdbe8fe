package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
)

// The embedded default with MCP_ALERT_WEBHOOK_URL must deliver to the
// webhook, not only to the console (getting started, step 2).
func TestServe_EmbeddedDefaultRoutesToEnvChannels(t *testing.T) {
	t.Parallel()
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type string `json:"type"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- body.Type
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"MCP_ALERT_WEBHOOK_URL": srv.URL + "/hook"}

	eng, err := klaxon.New(
		klaxon.WithConfig(embeddedDefault()), klaxon.FromEnv(),
		klaxon.WithGetenv(func(k string) string { return env[k] }), klaxon.WithDataDir(t.TempDir()),
	)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	<-eng.Ready()

	_, err = eng.Manager().Push(t.Context(), []lifecycle.Pushed{{
		Labels: alert.Labels{"alertname": "hello"}, Severity: alert.High, Summary: "Hello",
	}})
	require.NoError(t, err)
	select {
	case typ := <-got:
		require.Equal(t, "alert.active", typ)
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook got nothing")
	}
	// The built-in runtime rules watch this (busy) test process too, so
	// look only at the pushed alert.
	var hello *alert.Alert
	for _, a := range eng.Alerts() {
		if a.Labels["alertname"] == "hello" {
			hello = a
		}
	}
	require.NotNil(t, hello)
	require.ElementsMatch(t, []string{"console", "webhook"}, hello.Channels)
}

func TestTestChannel_Unknown(t *testing.T) {
	t.Parallel()
	_, errOut, err := run(t, nil, "test-channel", "nope", "--data-dir", t.TempDir())
	require.Error(t, err)
	require.Equal(t, "channel nope is not configured (known: console)\n", errOut)
}
