package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/lifecycle"
	kmcp "github.com/klaxonhq/klaxon/mcp"
	"github.com/klaxonhq/klaxon/secret"
)

const testToken = "s3cret-token"

// toolsBundle is an engine with two real alerts and a client of the klaxon
// MCP server over one backend.
type toolsBundle struct {
	eng    *klaxon.Engine
	cs     *sdk.ClientSession
	search string // id of the alert labelled tool=search
}

// setupTools builds the bundle; http selects the HTTP API backend (the
// engine then runs and listens on loopback) instead of the embedded one.
func setupTools(t *testing.T, http bool) *toolsBundle {
	t.Helper()
	opts := []klaxon.Option{klaxon.WithDataDir(t.TempDir()), klaxon.WithAPIToken(testToken), klaxon.WithChannel("rec", &recordingChannel{})}
	if http {
		opts = append(opts, klaxon.WithListen("127.0.0.1:0"))
	}
	eng, err := klaxon.New(opts...)
	require.NoError(t, err)
	ctx := t.Context()
	var backend kmcp.Backend = kmcp.EngineBackend{E: eng}
	if http {
		runCtx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = eng.Run(runCtx) }()
		t.Cleanup(func() { cancel(); <-done })
		<-eng.Ready()
		backend = &kmcp.HTTPBackend{URL: "http://" + eng.Addr(), Token: secret.New(testToken)}
	} else {
		t.Cleanup(func() { _ = eng.Close() })
	}
	res, err := eng.Manager().Push(ctx, []lifecycle.Pushed{
		{Labels: alert.Labels{"alertname": "high_error_rate", "tool": "search"}, Severity: alert.High, Summary: "search fails"},
		{Labels: alert.Labels{"alertname": "high_error_rate", "tool": "fetch"}, Severity: alert.Medium, Summary: "fetch fails"},
	})
	require.NoError(t, err)
	s := kmcp.NewServer(backend, &kmcp.ServerOptions{Token: secret.New(testToken)})
	return &toolsBundle{eng: eng, cs: connect(t, s), search: res[0].ID}
}

func call(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &sdk.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	require.Len(t, res.Content, 1)
	return res.Content[0].(*sdk.TextContent).Text, res.IsError
}

func TestServer_Tools(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		http bool
	}{
		{name: "embedded"},         // the tools act on an embedded *klaxon.Engine
		{name: "http", http: true}, // the tools act on a running klaxon over its API
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupTools(t, tc.http)

			// Listing: both open alerts.
			text, isErr := call(t, b.cs, "list_alerts", nil)
			require.False(t, isErr, text)
			var list struct {
				Alerts []alert.Alert `json:"alerts"`
				Count  int           `json:"count"`
			}
			require.NoError(t, json.Unmarshal([]byte(text), &list))
			require.Equal(t, 2, list.Count)
			text, isErr = call(t, b.cs, "list_alerts", map[string]any{"severity": "high"})
			require.False(t, isErr, text)
			require.NoError(t, json.Unmarshal([]byte(text), &list))
			require.Len(t, list.Alerts, 1)
			require.Equal(t, "search", list.Alerts[0].Labels["tool"])

			// A write without the token is refused, and changes nothing.
			text, isErr = call(t, b.cs, "acknowledge_alert", map[string]any{"id": b.search, "by": "alice"})
			require.True(t, isErr)
			require.Contains(t, text, "requires its API token")
			a, err := b.eng.Manager().Get(t.Context(), b.search)
			require.NoError(t, err)
			require.Equal(t, alert.StateActive, a.State)
			text, isErr = call(t, b.cs, "acknowledge_alert", map[string]any{"id": b.search, "token": "wrong"})
			require.True(t, isErr, text)

			// With the token the alert is acknowledged.
			text, isErr = call(t, b.cs, "acknowledge_alert", map[string]any{"id": b.search, "by": "alice", "comment": "on it", "token": testToken})
			require.False(t, isErr, text)
			var acked alert.Alert
			require.NoError(t, json.Unmarshal([]byte(text), &acked))
			require.Equal(t, alert.StateAcknowledged, acked.State)
			require.Equal(t, "alice", acked.AcknowledgedBy)
			a, err = b.eng.Manager().Get(t.Context(), b.search)
			require.NoError(t, err)
			require.Equal(t, alert.StateAcknowledged, a.State)

			// get_alert reads it back; an unknown id is a clear error.
			text, isErr = call(t, b.cs, "get_alert", map[string]any{"id": b.search})
			require.False(t, isErr, text)
			require.Contains(t, text, `"acknowledged_by": "alice"`)
			text, isErr = call(t, b.cs, "get_alert", map[string]any{"id": "nope"})
			require.True(t, isErr)
			require.Contains(t, text, `"nope"`)

			// Silencing the fetch alert suppresses it.
			text, isErr = call(t, b.cs, "silence_alerts", map[string]any{
				"matchers": []map[string]any{{"name": "tool", "value": "fetch"}}, "duration": "1h",
				"comment": "deploy", "token": testToken,
			})
			require.False(t, isErr, text)
			require.Contains(t, text, `"comment": "deploy"`)
			text, isErr = call(t, b.cs, "list_alerts", map[string]any{"state": "suppressed"})
			require.False(t, isErr, text)
			require.NoError(t, json.Unmarshal([]byte(text), &list))
			require.Len(t, list.Alerts, 1)
			require.Equal(t, "fetch", list.Alerts[0].Labels["tool"])

			// Firing and resolving.
			text, isErr = call(t, b.cs, "fire_alert", map[string]any{"labels": map[string]string{"service": "db"}, "severity": "critical", "summary": "db down", "token": testToken})
			require.False(t, isErr, text)
			var fired lifecycle.PushResult
			require.NoError(t, json.Unmarshal([]byte(text), &fired))
			require.Equal(t, alert.StateActive, fired.State)
			text, isErr = call(t, b.cs, "resolve_alert", map[string]any{"id": fired.ID, "token": testToken})
			require.False(t, isErr, text)
			a, err = b.eng.Manager().Get(t.Context(), fired.ID)
			require.NoError(t, err)
			require.Equal(t, alert.StateResolved, a.State)

			// Channels: listed, and tested through the backend.
			text, isErr = call(t, b.cs, "list_channels", nil)
			require.False(t, isErr, text)
			require.Contains(t, text, `"name": "rec"`)
			text, isErr = call(t, b.cs, "test_channel", map[string]any{"name": "rec", "token": testToken})
			require.False(t, isErr, text)
			require.Contains(t, text, `"ok": true`)
		})
	}
}

func TestServer_ToolAnnotationsAndSchemas(t *testing.T) {
	t.Parallel()
	b := setupTools(t, false)
	res, err := b.cs.ListTools(t.Context(), nil)
	require.NoError(t, err)
	got := map[string]*sdk.Tool{}
	for _, tl := range res.Tools {
		got[tl.Name] = tl
	}
	for name, readOnly := range map[string]bool{
		"list_alerts": true, "get_alert": true, "list_channels": true,
		"acknowledge_alert": false, "resolve_alert": false, "silence_alerts": false, "test_channel": false, "fire_alert": false,
	} {
		tl := got[name]
		require.NotNil(t, tl, name)
		require.Equal(t, readOnly, tl.Annotations.ReadOnlyHint, name)
		schema, err := json.Marshal(tl.InputSchema)
		require.NoError(t, err)
		if !readOnly {
			require.Contains(t, string(schema), `"token"`, name)
		}
	}
	schema, err := json.Marshal(got["acknowledge_alert"].InputSchema)
	require.NoError(t, err)
	require.Contains(t, string(schema), `"required":["id"]`)
}

// TestServer_AuthorizationHeader checks the streamable HTTP transport: the
// bearer header authorizes writes without a token argument.
func TestServer_AuthorizationHeader(t *testing.T) {
	t.Parallel()
	eng, err := klaxon.New(klaxon.WithDataDir(t.TempDir()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	res, err := eng.Manager().Push(t.Context(), []lifecycle.Pushed{{Labels: alert.Labels{"alertname": "x"}}})
	require.NoError(t, err)
	s := kmcp.NewServer(kmcp.EngineBackend{E: eng}, &kmcp.ServerOptions{Token: secret.New(testToken)})
	srv := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name   string
		header string
		ok     bool
	}{
		{name: "no header", ok: false},                          // refused
		{name: "wrong token", header: "Bearer nope", ok: false}, // refused
		{name: "bearer token", header: "Bearer " + testToken, ok: true},
	} {
		hc := &http.Client{Transport: headerRT{h: tc.header}}
		cs, err := sdk.NewClient(&sdk.Implementation{Name: "c", Version: "v1"}, nil).Connect(t.Context(),
			&sdk.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: hc}, nil)
		require.NoError(t, err, tc.name)
		text, isErr := call(t, cs, "acknowledge_alert", map[string]any{"id": res[0].ID})
		require.Equal(t, !tc.ok, isErr, "%s: %s", tc.name, text)
		require.NoError(t, cs.Close())
	}
	a, err := eng.Manager().Get(t.Context(), res[0].ID)
	require.NoError(t, err)
	require.Equal(t, alert.StateAcknowledged, a.State)
}

type headerRT struct{ h string }

func (rt headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if rt.h != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", rt.h)
	}
	return http.DefaultTransport.RoundTrip(r)
}
