package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/store/sqlite"
	"github.com/klaxonhq/klaxon/store/storetest"
)

// A 500 says the server log has the details and does not echo the error,
// which can name the database and its credentials.
func TestAPI_InternalErrorIsNotEchoed(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	st := &storetest.FaultyStore{Store: db}
	st.Fail.Store(true)
	m, err := lifecycle.New(t.Context(), lifecycle.Options{Store: st})
	require.NoError(t, err)
	h, err := api.New(api.Options{Manager: m, Store: st})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	resp, err := http.Post(srv.URL+"/api/v1/alerts", "application/json", strings.NewReader(`[{"labels":{"alertname":"x"}}]`))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	var body map[string]string
	require.NoError(t, json.Unmarshal(raw, &body))
	require.Contains(t, body["error"], "server log")
	require.NotContains(t, string(raw), storetest.ErrInjected.Error())
}
