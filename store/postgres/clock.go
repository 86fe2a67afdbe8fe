package postgres

import (
	"context"
	"math"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// The queue's times are compared across replicas: a record is due when its
// next_attempt_at has passed and claimable when its lease (locked_until)
// has ended, whichever replica wrote them. So the store keeps those columns
// on the database's clock: it measures how far the database's clock is
// from this process's, adds that offset to every queue time it writes and
// takes it off every one it reads. Callers keep using their own clock; a
// replica whose clock runs minutes ahead of another's no longer takes the
// other's leased records early.
//
// The offset is measured at Open and every offsetEvery after, from the
// sample with the shortest round trip (its error is at most half of that).
const (
	offsetEvery   = 30 * time.Second
	offsetSamples = 3
)

// measureOffset sets the offset from offsetSamples round trips.
func (s *Store) measureOffset(ctx context.Context) error {
	var best, bestRTT time.Duration
	for i := range offsetSamples {
		before := s.now()
		var db time.Time
		if err := s.pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&db); err != nil {
			return err
		}
		after := s.now()
		rtt := after.Sub(before)
		if i == 0 || rtt < bestRTT {
			best, bestRTT = db.Sub(before.Add(rtt/2)), rtt
		}
	}
	s.offset.Store(int64(best))
	return nil
}

// keepOffset measures the offset again every offsetEvery until the store
// closes; a failed measurement keeps the last one.
func (s *Store) keepOffset() {
	t := time.NewTicker(offsetEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
			_ = s.measureOffset(ctx)
			cancel()
		}
	}
}

// toDB encodes a queue time on the database's clock; the zero time stays 0
// (no lease, due at once).
func (s *Store) toDB(t time.Time) int64 {
	n := nanos(t)
	if n == 0 || n == math.MaxInt64 || n == math.MinInt64+1 {
		return n // zero, or beyond what nanoseconds hold
	}
	return n + s.offset.Load()
}

// fromDB decodes a queue time read from the database onto this process's
// clock.
func (s *Store) fromDB(n int64) time.Time {
	if n == 0 || n == math.MaxInt64 || n == math.MinInt64+1 {
		return fromNanos(n)
	}
	return fromNanos(n - s.offset.Load())
}

// queueTimesFromDB moves a read record's queue times onto this process's
// clock.
func (s *Store) queueTimesFromDB(n *store.Notification) {
	for _, t := range []*time.Time{&n.CreatedAt, &n.NextAttemptAt, &n.LockedUntil, &n.UpdatedAt} {
		*t = s.fromDB(nanos(*t))
	}
}
