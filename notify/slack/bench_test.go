package slack

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klaxonhq/klaxon/alert"
)

// BenchmarkBuildMessage measures rendering one notification.
func BenchmarkBuildMessage(b *testing.B) {
	n := testNotification(alert.StateAcknowledged, "")
	b.ReportAllocs()
	for b.Loop() {
		_ = buildMessage(n, testNow)
	}
}

// BenchmarkSend measures a Web API update plus thread reply against a local
// stand-in: the channel's own overhead, loopback included.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ok":true,"channel":"C0ALERTS","ts":"1793700000.000100"}`))
	}))
	b.Cleanup(srv.Close)
	tr := &http.Transport{}
	b.Cleanup(tr.CloseIdleConnections)
	ch := newAPIChannel(b, srv.URL, &http.Client{Transport: tr})
	n := testNotification(alert.StateAcknowledged, "C0ALERTS:1793700000.000100")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ch.Send(b.Context(), n); err != nil {
			b.Fatal(err)
		}
	}
}
