package lifecycle

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// BenchmarkRepostAndTick is an engine holding 20,000 alerts whose sender
// posts one of them again every second (as Prometheus re-sends firing
// alerts), with Tick running each second on a route that repeats every 4h.
// Run it for less than 4 simulated hours (the default 1s is far less).
func BenchmarkRepostAndTick(b *testing.B) {
	bu := setup(b, []*Route{{Notify: []string{"ops"}, RepeatInterval: 4 * time.Hour}})
	ctx := context.Background()
	const open = 20000
	// Far end times: the benchmark measures holding the alerts, not
	// resolving them.
	ends := bu.clock.now().Add(30 * 24 * time.Hour)
	for k := 0; k < open; k += 1000 {
		in := make([]Pushed, 1000)
		for i := range in {
			in[i] = Pushed{Labels: alert.Labels{"alertname": "load", "i": fmt.Sprint(k + i)}, EndsAt: ends}
		}
		if _, err := bu.m.Push(ctx, in); err != nil {
			b.Fatal(err)
		}
		bu.take()
	}
	for i := 0; b.Loop(); i++ {
		bu.clock.add(time.Second)
		re := Pushed{Labels: alert.Labels{"alertname": "load", "i": fmt.Sprint(i % open)}, EndsAt: ends}
		if _, err := bu.m.Push(ctx, []Pushed{re}); err != nil {
			b.Fatal(err)
		}
		if err := bu.m.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
