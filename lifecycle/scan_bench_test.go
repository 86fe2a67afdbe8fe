package lifecycle

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// A full Tick scan over many pushed alerts with nothing due: what each scan
// costs in time and garbage. The first scan after a change unpacks each
// alert once; later ones read the cached due times (20,000 alerts: about
// 0.7 ms a scan with -benchtime 200x).
func BenchmarkTick_FullScanOfPushedAlerts(b *testing.B) {
	b.Run("repeat", func(b *testing.B) { benchScan(b, []*Route{{Notify: []string{"ops"}, RepeatInterval: 4 * time.Hour}}) })
	b.Run("untimed", func(b *testing.B) { benchScan(b, []*Route{{Notify: []string{"ops"}}}) })
}

func benchScan(b *testing.B, routes []*Route) {
	bu := setup(b, routes)
	ctx := context.Background()
	pushOpen(b, bu, 20000)
	runtime.GC()
	b.ReportAllocs()
	for b.Loop() {
		bu.m.mu.Lock()
		bu.m.scanDue = time.Time{} // the next Tick scans all
		bu.m.mu.Unlock()
		if err := bu.m.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// Manager.Open over many pushed alerts (API list, dashboard, MCP), all of
// it under the manager's lock.
func BenchmarkOpen_PushedAlerts(b *testing.B) {
	bu := setup(b, []*Route{{Notify: []string{"ops"}}})
	pushOpen(b, bu, 20000)
	b.ReportAllocs()
	for b.Loop() {
		_ = bu.m.Open()
	}
}

// pushOpen pushes n distinct alerts that stay open for a month, in posts
// of 1,000, and drops their notifications.
func pushOpen(b *testing.B, bu *testBundle, n int) {
	b.Helper()
	ends := bu.clock.now().Add(30 * 24 * time.Hour)
	for k := 0; k < n; k += 1000 {
		in := make([]Pushed, min(1000, n-k))
		for i := range in {
			in[i] = Pushed{Labels: alert.Labels{"alertname": "load", "host": "db1", "i": fmt.Sprint(k + i)}, EndsAt: ends}
		}
		if _, err := bu.m.Push(context.Background(), in); err != nil {
			b.Fatal(err)
		}
		bu.take()
	}
}
