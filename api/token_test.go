package api_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/secret"
	"github.com/klaxonhq/klaxon/store/sqlite"
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

// A configured token that is only whitespace (an empty secret file) is
// refused: taking it as no token would leave writes open to whoever meant
// to protect them.
func TestAPI_BlankTokenIsRefused(t *testing.T) {
	t.Parallel()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	m, err := lifecycle.New(t.Context(), lifecycle.Options{Store: st})
	require.NoError(t, err)
	for _, token := range []string{" ", "\n", " \t\r\n"} {
		_, err := api.New(api.Options{Manager: m, Store: st, Token: secret.New(token)})
		require.EqualError(t, err, "api: the API token is blank (only whitespace)", "token %q", token)
	}
	// No token at all is the loopback default: writes need none.
	b := setup(t, "")
	resp, raw := b.send(t, "POST", "/api/v1/silences", silenceBody, nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode, raw)
}
