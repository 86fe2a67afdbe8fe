package webhook

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/secret"
)

// BenchmarkChannel_Send measures one signed delivery to a loopback receiver.
func BenchmarkChannel_Send(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	ch := newChannel(b, Config{URL: secret.New(srv.URL), Secret: secret.New(testSecret('k', 32))})
	n := activeNotification()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ch.Send(b.Context(), n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBodyAndSign measures encoding the klaxon body and signing it,
// the channel's own work per attempt.
func BenchmarkBodyAndSign(b *testing.B) {
	ch := newChannel(b, Config{URL: secret.New("http://127.0.0.1:1/"), Secret: secret.New(testSecret('k', 32))})
	n := activeNotification()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		body, _, err := ch.body(n, n.IdempotencyKey, now)
		if err != nil {
			b.Fatal(err)
		}
		_ = sign(ch.keys, n.IdempotencyKey, now, body)
	}
}
