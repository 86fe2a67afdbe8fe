package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/postgres"
	"github.com/klaxonhq/klaxon/store/storetest"
)

func BenchmarkApply(b *testing.B) {
	for _, size := range []int{1, 100} {
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

// BenchmarkClaimBacklog claims batches of 256 from a backlog of 50,000 due
// records (a receiver back after an outage), across channels and for one,
// once the table's statistics know the backlog (as autovacuum's analyze
// soon does; before it, the planner believes the table is small and sorts).
func BenchmarkClaimBacklog(b *testing.B) {
	for _, channel := range []string{"", "ops"} {
		b.Run(fmt.Sprintf("channel=%q", channel), func(b *testing.B) {
			ctx := b.Context()
			url := testURL(b)
			schema := newSchema(b, url)
			s, err := postgres.Open(ctx, url, &postgres.Options{Schema: schema, MaxConns: 4})
			require.NoError(b, err)
			b.Cleanup(func() { require.NoError(b, s.Close()) })
			storetest.MustApplyBacklog(b, s, 100)
			conn, err := pgx.Connect(ctx, url)
			require.NoError(b, err)
			_, err = conn.Exec(ctx, "ANALYZE "+pgx.Identifier{schema, "notifications"}.Sanitize())
			require.NoError(b, err)
			require.NoError(b, conn.Close(ctx))
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
