package api_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/lifecycle"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// FuzzWriteEndpoints posts arbitrary bodies to every endpoint that reads
// one: bad input must get a 4xx with a JSON error, never a 500 or a panic.
func FuzzWriteEndpoints(f *testing.F) {
	for _, s := range []string{
		`[{"labels":{"alertname":"x"},"severity":"high","summary":"s"}]`,
		`[{"labels":{"a":"b"},"status":"resolved","ends_at":"2026-01-01T00:00:00Z"}]`,
		`[{"name":"error_rate","value":0.2,"labels":{"tool":"t"}}]`,
		`{"matchers":[{"name":"a","op":"=~","value":"b.*"}],"duration":"1h"}`,
		`{"by":"alice","comment":"x"}`, `[]`, `{}`, `null`, `[{"labels":{}}]`, `[{"name":"","value":null}]`,
		// type errors, whitespace and trailing data
		`[{"name":"x","value":"1"}]`, `[{"name":"x","value":1e999}]`, `{"matchers":[{"name":1}]}`,
		`[{"labels":{"a":[1]}}]`, `{"by":{}}`, " \n\t", `[] ]`,
	} {
		for path := range 4 {
			f.Add(path, s)
		}
	}
	st, err := sqlite.Open(f.Context(), filepath.Join(f.TempDir(), "k.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	m, err := lifecycle.New(f.Context(), lifecycle.Options{Store: st})
	if err != nil {
		f.Fatal(err)
	}
	h, err := api.New(api.Options{Manager: m, Store: st, Metrics: &pushed{}})
	if err != nil {
		f.Fatal(err)
	}
	paths := []string{"/api/v1/alerts", "/api/v1/metrics", "/api/v1/silences", "/api/v1/alerts/x/ack"}
	f.Fuzz(func(t *testing.T, which int, body string) {
		path := paths[(which%len(paths)+len(paths))%len(paths)]
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: status %d: %s", path, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error"`) {
			t.Fatalf("POST %s %q: status %d without a JSON error: %s", path, body, rec.Code, rec.Body.String())
		}
	})
}
