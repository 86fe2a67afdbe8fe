package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/storetest"
)

func BenchmarkApply(b *testing.B) {
	for _, size := range []int{1, 100, 250, 2000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s := openTemp(b)
			ctx := b.Context()
			n := 0
			for b.Loop() {
				changes := make([]store.Change, size)
				for i := range changes {
					n++
					a := storetest.NewAlert(fmt.Sprintf("a%d", n), fmt.Sprintf("n%d", n), alert.StateActive, storetest.T0)
					changes[i] = storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0))
				}
				_, err := s.Apply(ctx, &store.ApplyParams{Changes: changes})
				require.NoError(b, err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/change")
		})
	}
}

func BenchmarkClaimFinish(b *testing.B) {
	const batch = 64
	s := openTemp(b)
	ctx := b.Context()
	refill := func(k int) {
		changes := make([]store.Change, 0, 500)
		for i := range 500 {
			a := storetest.NewAlert(fmt.Sprintf("a%d-%d", k, i), fmt.Sprintf("n%d-%d", k, i), alert.StateActive, storetest.T0)
			changes = append(changes, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
		}
		storetest.MustApply(b, s, changes...)
	}
	k := 0
	refill(k)
	now := storetest.T0.Add(time.Second)
	for b.Loop() {
		ns, err := s.NotificationClaim(ctx, &store.NotificationClaimParams{Channel: "ops", Limit: batch, Now: now,
			LeaseUntil: now.Add(time.Minute), Owner: "bench"})
		require.NoError(b, err)
		if len(ns) < batch {
			b.StopTimer()
			k++
			refill(k)
			b.StartTimer()
		}
		rs := make([]*store.NotificationResult, len(ns))
		for i, n := range ns {
			rs[i] = &store.NotificationResult{ID: n.ID, State: store.NotificationSent, Attempts: 1,
				Delivery: &store.Delivery{At: now, Attempt: 1, Outcome: store.OutcomeSent, StatusCode: 200}}
		}
		_, err = s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: rs})
		require.NoError(b, err)
	}
}

// BenchmarkFinish finishes batches of 256 sent notifications, with
// delivery entries that name their record (as the dispatcher's do) and
// without (the store reads the names back).
func BenchmarkFinish(b *testing.B) {
	for _, named := range []bool{true, false} {
		b.Run(fmt.Sprintf("named=%t", named), func(b *testing.B) {
			const batch = 256
			s := openTemp(b)
			ctx := b.Context()
			k := 0
			for b.Loop() {
				b.StopTimer()
				k++
				changes := make([]store.Change, 0, batch)
				for i := range batch {
					a := storetest.NewAlert(fmt.Sprintf("a%d-%d", k, i), fmt.Sprintf("n%d-%d", k, i), alert.StateActive, storetest.T0)
					changes = append(changes, storetest.NewChange(a, storetest.NewNotification(a, "ops", storetest.T0)))
				}
				ns, err := s.Apply(ctx, &store.ApplyParams{Changes: changes})
				require.NoError(b, err)
				rs := make([]*store.NotificationResult, len(ns))
				for i, n := range ns {
					d := &store.Delivery{At: storetest.T0, Attempt: 1, Outcome: store.OutcomeSent, StatusCode: 200}
					if named {
						d.NotificationID, d.AlertID, d.Fingerprint, d.Channel, d.Event = n.ID, n.AlertID, n.Fingerprint, n.Channel, n.Event
					}
					rs[i] = &store.NotificationResult{ID: n.ID, State: store.NotificationSent, Attempts: 1, Delivery: d}
				}
				b.StartTimer()
				_, err = s.NotificationFinish(ctx, &store.NotificationFinishParams{Results: rs})
				require.NoError(b, err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(k*batch), "ns/finish")
		})
	}
}

// BenchmarkClaimBacklog claims batches of 256 from a backlog of 50,000 due
// records (a receiver back after an outage), across channels and for one.
func BenchmarkClaimBacklog(b *testing.B) {
	for _, channel := range []string{"", "ops"} {
		b.Run(fmt.Sprintf("channel=%q", channel), func(b *testing.B) {
			s := openTemp(b)
			ctx := b.Context()
			storetest.MustApplyBacklog(b, s, 100)
			now := storetest.T0.Add(time.Second)
			for b.Loop() {
				// A lease that ends at once keeps the backlog whole.
				ns, err := s.NotificationClaim(ctx, &store.NotificationClaimParams{Channel: channel, Limit: 256, Now: now,
					LeaseUntil: now, Owner: "bench"})
				require.NoError(b, err)
				require.Len(b, ns, 256)
			}
		})
	}
}

// BenchmarkStatsBacklog counts a backlog of 50,000 queued records in two
// channels, as each sweep does for the queue-depth metric: 16-20 ms, most
// of it sorting for GROUP BY channel (no index leads with the channel).
// Counting with SUM(channel = ?) per channel in one pass instead took 9 ms
// for two channels and 17 ms for five, so the sort stays.
func BenchmarkStatsBacklog(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	storetest.MustApplyBacklog(b, s, 100)
	for b.Loop() {
		st, err := s.NotificationStats(ctx, storetest.T0)
		require.NoError(b, err)
		require.Equal(b, 50000, st.Queued)
	}
}
