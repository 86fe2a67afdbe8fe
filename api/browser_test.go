package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// raw sends a request with the given headers and returns the status.
func (b *testBundle) raw(t *testing.T, method, path, body string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// A web page on another site cannot make the operator's browser change
// klaxon's state (cross-site request forgery), or read it through a name
// that resolves to this machine (DNS rebinding); the dashboard's own
// requests and clients that are not browsers pass.
func TestAPI_BrowserRequestsFromElsewhereAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	silence := `{"matchers":[{"name":"alertname","op":"=~","value":".*"}],"duration":"2000h"}`
	host := strings.TrimPrefix(b.srv.URL, "http://")

	require.Equal(t, http.StatusForbidden, b.raw(t, "POST", "/api/v1/silences", silence,
		map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}))
	require.Equal(t, http.StatusForbidden, b.raw(t, "POST", "/api/v1/silences", silence,
		map[string]string{"Sec-Fetch-Site": "cross-site"}))
	require.Equal(t, http.StatusForbidden, b.raw(t, "POST", "/api/v1/silences", silence,
		map[string]string{"Origin": "null"}))
	require.Equal(t, http.StatusMisdirectedRequest, b.raw(t, "GET", "/api/v1/alerts", "",
		map[string]string{"Host": "rebind.evil.example:9095"}))
	require.Equal(t, http.StatusMisdirectedRequest, b.raw(t, "POST", "/api/v1/silences", silence,
		map[string]string{"Host": "rebind.evil.example:9095", "Origin": "http://rebind.evil.example:9095"}))
	code, list := b.do(t, "GET", "/api/v1/silences", "", nil)
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, list["silences"], "nothing was written")

	require.Equal(t, http.StatusCreated, b.raw(t, "POST", "/api/v1/silences", silence,
		map[string]string{"Content-Type": "application/json", "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}))
	require.Equal(t, http.StatusCreated, b.raw(t, "POST", "/api/v1/silences", silence,
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), "curl -d")
	require.Equal(t, http.StatusOK, b.raw(t, "GET", "/api/v1/alerts", "", map[string]string{"Host": "localhost:9095"}))
}

// With a token the API may be reached by any name, and the scheme of the
// Authorization header is case-insensitive.
func TestAPI_TokenAnyHostAnyCase(t *testing.T) {
	t.Parallel()
	b := setup(t, "s3cret")
	require.Equal(t, http.StatusOK, b.raw(t, "GET", "/api/v1/alerts", "", map[string]string{"Host": "alerts.example.com"}))
	require.Equal(t, http.StatusCreated, b.raw(t, "POST", "/api/v1/silences",
		`{"matchers":[{"name":"a","op":"=","value":"b"}],"duration":"1h"}`,
		map[string]string{"Authorization": "bearer s3cret", "Host": "alerts.example.com"}))
}

// A batch of samples with one bad sample records none of them.
func TestAPI_MetricBatchAllOrNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	code, body := b.do(t, "POST", "/api/v1/metrics", "", []map[string]any{
		{"name": "error_rate", "value": 0.9}, {"name": "bad name", "value": 1},
	})
	require.Equal(t, http.StatusBadRequest, code, "%v", body)
	require.Equal(t, "[1]", body["field"])
	b.metrics.mu.Lock()
	defer b.metrics.mu.Unlock()
	require.Empty(t, b.metrics.samples)
}
