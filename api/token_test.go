package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

const silenceBody = `{"matchers":[{"name":"a","op":"=","value":"b"}],"duration":"1h"}`

// A configured token read from a file or the environment often ends in a
// newline or has spaces around it; it matches the bare token in the
// Authorization header.
func TestAPI_ConfiguredTokenIsTrimmed(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"s3cret-token\n", " s3cret-token \r\n", "\ts3cret-token"} {
		b := setup(t, token)
		resp, raw := b.send(t, "POST", "/api/v1/silences", silenceBody, map[string]string{"Authorization": "Bearer s3cret-token"})
		require.Equal(t, http.StatusCreated, resp.StatusCode, "token %q: %s", token, raw)

		resp, raw = b.send(t, "POST", "/api/v1/silences", silenceBody, map[string]string{"Authorization": "Bearer s3cret"})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, raw)
		require.Equal(t, `Bearer realm="klaxon"`, resp.Header.Get("WWW-Authenticate"))
		require.Equal(t, map[string]any{"field": "Authorization", "error": "a valid bearer token is required for this endpoint"},
			jsonBody(t, resp, raw))
		resp, raw = b.send(t, "POST", "/api/v1/silences", silenceBody, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, raw)
		require.NotContains(t, raw, "s3cret")
	}
}

// A configured token that is only whitespace is no token: writes need no
// Authorization, and (as without a token) the API answers only requests
// addressed to it by a loopback name or an IP address.
func TestAPI_BlankTokenIsNoToken(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"", " ", "\n", " \t\r\n"} {
		b := setup(t, token)
		resp, raw := b.send(t, "POST", "/api/v1/silences", silenceBody, nil)
		require.Equal(t, http.StatusCreated, resp.StatusCode, "token %q: %s", token, raw)
		require.Empty(t, resp.Header.Get("WWW-Authenticate"))
		require.Equal(t, http.StatusMisdirectedRequest, b.raw(t, "GET", "/api/v1/alerts", "",
			map[string]string{"Host": "alerts.example.com"}), "token %q", token)
	}
	// With a real token, the same requests are answered differently.
	b := setup(t, "s3cret-token")
	require.Equal(t, http.StatusUnauthorized, b.raw(t, "POST", "/api/v1/silences", silenceBody, nil))
	require.Equal(t, http.StatusOK, b.raw(t, "GET", "/api/v1/alerts", "", map[string]string{"Host": "alerts.example.com"}))
}
