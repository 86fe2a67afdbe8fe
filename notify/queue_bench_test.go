package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/sqlite"
)

// benchQueue runs a dispatcher on a SQLite file with one channel that
// reports each send on got.
func benchQueue(b *testing.B) (store.Store, *notify.Dispatcher, chan time.Time) {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "q.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	got := make(chan time.Time, 100000)
	ch := notify.ChannelFunc(func(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
		got <- time.Now()
		return notify.Receipt{}, nil
	})
	d, err := notify.NewDispatcher(notify.DispatcherOptions{Store: st, Owner: "me",
		Channels: []notify.ChannelConfig{{Name: "ops", Channel: ch, Concurrency: 16}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done; st.Close() })
	return st, d, got
}

func changes(from, n int, now time.Time) []store.Change {
	out := make([]store.Change, 0, n)
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("a%d", i)
		a := &alert.Alert{ID: id, Fingerprint: alert.NewFingerprint("", alert.Labels{"id": id}), State: alert.StateActive,
			Severity: alert.High, Labels: alert.Labels{"id": id}, StartedAt: now, UpdatedAt: now, Sequence: 1}
		payload, _ := json.Marshal(notify.AlertEvent{Alert: a})
		out = append(out, store.Change{Alert: a,
			Transition: &alert.Transition{AlertID: id, Fingerprint: a.Fingerprint, Sequence: 1, To: alert.StateActive, At: now},
			Notifications: []*store.NotificationInsert{{
				IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, 1, "ops"), AlertID: id, Fingerprint: a.Fingerprint,
				Sequence: 1, Channel: "ops", Event: string(notify.EventActive), Priority: 45, Payload: payload,
				CreatedAt: now, NextAttemptAt: now, LockedUntil: now.Add(time.Minute), LockedBy: "me",
			}}})
	}
	return out
}

// BenchmarkQueueLatency measures one transition written durably (one
// Apply transaction) to the channel's Send, one at a time; it reports
// p50/p99 in microseconds.
func BenchmarkQueueLatency(b *testing.B) {
	st, d, got := benchQueue(b)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		recs, err := st.Apply(context.Background(), &store.ApplyParams{Changes: changes(i, 1, start)})
		if err != nil {
			b.Fatal(err)
		}
		d.Enqueue(recs)
		t := <-got
		lat = append(lat, t.Sub(start))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkQueue20000 writes 20,000 transitions in batches of 500 and
// waits until every one was sent; ns/op is the time for all 20,000.
func BenchmarkQueue20000(b *testing.B) {
	st, d, got := benchQueue(b)
	base := 0
	for b.Loop() {
		const total, batch = 20000, 500
		for off := 0; off < total; off += batch {
			recs, err := st.Apply(context.Background(), &store.ApplyParams{Changes: changes(base+off, batch, time.Now())})
			if err != nil {
				b.Fatal(err)
			}
			d.Enqueue(recs)
		}
		for range total {
			<-got
		}
		base += total
	}
}
