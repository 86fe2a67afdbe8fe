package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// chunked sends a POST with Transfer-Encoding: chunked (the server sees
// ContentLength -1) carrying the given chunks, and returns the answer.
func (b *testBundle) chunked(t *testing.T, path string, chunks ...string) (*http.Response, string) {
	t.Helper()
	host := strings.TrimPrefix(b.srv.URL, "http://")
	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", host)
	require.NoError(t, err)
	defer conn.Close()
	var req strings.Builder
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", path, host)
	for _, c := range chunks {
		fmt.Fprintf(&req, "%x\r\n%s\r\n", len(c), c)
	}
	req.WriteString("0\r\n\r\n")
	_, err = io.WriteString(conn, req.String())
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(raw)
}

// pushOne pushes an alert and returns its id.
func (b *testBundle) pushOne(t *testing.T, name string) string {
	t.Helper()
	code, res := b.do(t, "POST", "/api/v1/alerts", "", []map[string]any{{"labels": map[string]string{"alertname": name}}})
	require.Equal(t, http.StatusAccepted, code, res)
	return res["alerts"].([]any)[0].(map[string]any)["id"].(string)
}

// The body of ack and resolve is optional: sent chunked with no data, or
// only whitespace, it is the same as no body. A body that is there but is
// not valid JSON is still refused.
func TestAPI_AckResolveEmptyBodyIsNoBody(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	// What an ack with no body at all (Content-Length: 0) records.
	ref := b.pushOne(t, "reference")
	code, noBody := b.do(t, "POST", "/api/v1/alerts/"+ref+"/ack", "", nil)
	require.Equal(t, http.StatusOK, code, noBody)
	require.Equal(t, "unknown", noBody["acknowledged_by"])

	for _, tc := range []struct {
		name   string
		chunks []string
	}{
		{"chunked, no data", nil},
		{"chunked, whitespace", []string{" \n", "\t\r\n "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := b.pushOne(t, "chunked "+tc.name)
			resp, raw := b.chunked(t, "/api/v1/alerts/"+id+"/ack", tc.chunks...)
			require.Equal(t, http.StatusOK, resp.StatusCode, raw)
			a := jsonBody(t, resp, raw)
			require.Equal(t, id, a["id"])
			require.Equal(t, "acknowledged", a["state"])
			require.Equal(t, noBody["acknowledged_by"], a["acknowledged_by"])

			resp, raw = b.chunked(t, "/api/v1/alerts/"+id+"/resolve", tc.chunks...)
			require.Equal(t, http.StatusOK, resp.StatusCode, raw)
			a = jsonBody(t, resp, raw)
			require.Equal(t, id, a["id"])
			require.Equal(t, "resolved", a["state"])
		})
	}

	t.Run("whitespace with a length", func(t *testing.T) {
		id := b.pushOne(t, "whitespace")
		resp, raw := b.send(t, "POST", "/api/v1/alerts/"+id+"/ack", "  \r\n\t", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, raw)
		require.Equal(t, "acknowledged", jsonBody(t, resp, raw)["state"])
		resp, raw = b.send(t, "POST", "/api/v1/alerts/"+id+"/resolve", "\n", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, raw)
		require.Equal(t, "resolved", jsonBody(t, resp, raw)["state"])
	})

	t.Run("a body still counts", func(t *testing.T) {
		id := b.pushOne(t, "with body")
		resp, raw := b.chunked(t, "/api/v1/alerts/"+id+"/ack", `{"by":`, `"alice"}`)
		require.Equal(t, http.StatusOK, resp.StatusCode, raw)
		require.Equal(t, "alice", jsonBody(t, resp, raw)["acknowledged_by"])
	})

	t.Run("malformed", func(t *testing.T) {
		id := b.pushOne(t, "malformed")
		for _, path := range []string{"/api/v1/alerts/" + id + "/ack", "/api/v1/alerts/" + id + "/resolve"} {
			resp, raw := b.chunked(t, path, ` {"by": `)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, raw)
			require.Equal(t, map[string]any{"field": "body", "error": "invalid JSON: the body ends inside a value"}, jsonBody(t, resp, raw))

			resp, raw = b.send(t, "POST", path, `by=alice`, nil)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, raw)
			require.Equal(t, map[string]any{"field": "body", "error": "invalid JSON at byte 1: invalid character 'b' looking for beginning of value"},
				jsonBody(t, resp, raw))
		}
		code, a := b.do(t, "GET", "/api/v1/alerts/"+id, "", nil)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "active", a["state"], "a refused request changes nothing")
	})
}
