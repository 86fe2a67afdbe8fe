package pagerduty

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/notify"
)

// BenchmarkBuildEncode measures building and encoding one trigger event.
func BenchmarkBuildEncode(b *testing.B) {
	ch := newChannel(b, nil, Config{})
	n := notification(notify.EventActive, firingAlert())
	b.ReportAllocs()
	for b.Loop() {
		ev := ch.buildEvent(n, 0, actionTrigger)
		ev.RoutingKey = testKey
		if _, _, err := encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSend measures one trigger over loopback HTTP to a minimal
// Events API stand-in (no schema validation in the loop).
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"k"}`))
	}))
	b.Cleanup(srv.Close)
	ch, err := New("pager", Config{RoutingKey: newKey(), EventsURL: srv.URL + "/v2/enqueue"}, WithHTTPClient(srv.Client()))
	require.NoError(b, err)
	n := notification(notify.EventActive, firingAlert())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ch.Send(b.Context(), n); err != nil {
			b.Fatal(err)
		}
	}
}
