package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// send makes a request to the test server and returns the answer with its
// whole body.
func (b *testBundle) send(t *testing.T, method, path, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(raw)
}

// jsonBody decodes an answer that must be JSON.
func jsonBody(t *testing.T, resp *http.Response, raw string) map[string]any {
	t.Helper()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"), raw)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &out), raw)
	return out
}

// A path under /api/ that no endpoint serves, or a method an endpoint does
// not take, gets the API's JSON error like every other API error; a 405
// lists the methods that are allowed.
func TestAPI_UnknownPathOrMethodIsJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	tests := []struct {
		method, path string
		code         int
		allow        string
		msg          string
	}{
		{"GET", "/api/v1/nope", 404, "", `unknown API path "/api/v1/nope"`},
		{"POST", "/api/v2/alerts", 404, "", `unknown API path "/api/v2/alerts"`},
		{"GET", "/api/v1/alerts/x/ack/more", 404, "", `unknown API path "/api/v1/alerts/x/ack/more"`},
		{"GET", "/api/", 404, "", `unknown API path "/api/"`},
		{"GET", "/api", 404, "", `unknown API path "/api"`},
		{"DELETE", "/api/v1/alerts", 405, "GET, HEAD, POST",
			`method "DELETE" is not allowed on "/api/v1/alerts" (allowed: GET, HEAD, POST)`},
		{"GET", "/api/v1/alerts/x/ack", 405, "POST", `method "GET" is not allowed on "/api/v1/alerts/x/ack" (allowed: POST)`},
		{"PUT", "/api/v1/silences/abc", 405, "DELETE", `method "PUT" is not allowed on "/api/v1/silences/abc" (allowed: DELETE)`},
		{"PATCH", "/api/v1/metrics", 405, "POST", `method "PATCH" is not allowed on "/api/v1/metrics" (allowed: POST)`},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, raw := b.send(t, tc.method, tc.path, "", nil)
			require.Equal(t, tc.code, resp.StatusCode, raw)
			require.Equal(t, tc.allow, resp.Header.Get("Allow"))
			require.Equal(t, map[string]any{"error": tc.msg}, jsonBody(t, resp, raw))
		})
	}

	// An endpoint's own 404 (an unknown alert) still names its field.
	resp, raw := b.send(t, "GET", "/api/v1/alerts/nope", "", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, "id", jsonBody(t, resp, raw)["field"])
}

// Outside /api/ (dashboard, /metrics, health) the answers stay net/http's.
func TestAPI_NonAPIPathsKeepPlainErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	tests := []struct {
		method, path string
		code         int
		allow, body  string
	}{
		{"GET", "/nope", 404, "", "404 page not found\n"},
		{"GET", "/apix", 404, "", "404 page not found\n"},
		{"POST", "/metrics", 405, "GET, HEAD", "Method Not Allowed\n"},
		{"POST", "/healthz", 405, "GET, HEAD", "Method Not Allowed\n"},
		{"DELETE", "/", 405, "GET, HEAD", "Method Not Allowed\n"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, raw := b.send(t, tc.method, tc.path, "", nil)
			require.Equal(t, tc.code, resp.StatusCode)
			require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Equal(t, tc.allow, resp.Header.Get("Allow"))
			require.Equal(t, tc.body, raw)
		})
	}
	resp, raw := b.send(t, "GET", "/", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, raw, "<h1>klaxon</h1>")
}
