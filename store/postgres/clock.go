package postgres

import (
	"context"
	"math"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// The queue's due and lease times are compared across replicas: a record
// is due when its next_attempt_at has passed and claimable when its lease
// (locked_until) has ended, whichever replica wrote them. So the store keeps
// those two columns on the database's clock: it measures how far the
// database's clock is from this process's, adds that offset to each of
// those times it writes and takes it off each one it reads. Callers keep
// using their own clock; a replica whose clock runs minutes ahead of
// another's no longer takes the other's leased records early, nor sends
// their retries early. Other times (created_at, the transition's time that
// receivers see; updated_at; the delivery log's) stay on the writer's clock.
//
// The offset is measured at Open and every offsetEvery after, on a
// connection of its own, from the sample with the shortest round trip (its
// error is at most half of that). A new measurement replaces the last only
// when its round trip is comparable (a database under load answers
// slowly), or when the last is older than offsetKeep.
const (
	offsetEvery   = 30 * time.Second
	offsetSamples = 3
	offsetKeep    = 10 * time.Minute
)

// measureOffset measures the offset from offsetSamples round trips and
// keeps it unless the last measurement was better and recent.
func (s *Store) measureOffset(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	var best, bestRTT time.Duration
	for i := range offsetSamples {
		before := s.now()
		var db time.Time
		if err := conn.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&db); err != nil {
			return err
		}
		after := s.now()
		rtt := after.Sub(before)
		if i == 0 || rtt < bestRTT {
			best, bestRTT = db.Sub(before.Add(rtt/2)), rtt
		}
	}
	s.offsetMu.Lock()
	defer s.offsetMu.Unlock()
	if s.offsetAt.IsZero() || bestRTT <= 2*s.offsetRTT+time.Millisecond || time.Since(s.offsetAt) > offsetKeep {
		s.offset.Store(int64(best))
		s.offsetRTT, s.offsetAt = bestRTT, time.Now()
	}
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

// toDB encodes a due or lease time on the database's clock. The zero time
// stays 0 (due at once, no lease), and times near the ends of what
// nanoseconds hold saturate instead of wrapping round.
func (s *Store) toDB(t time.Time) int64 {
	n := nanos(t)
	if n == 0 {
		return 0
	}
	off := s.offset.Load()
	switch {
	case off > 0 && n > math.MaxInt64-off:
		return math.MaxInt64
	case off < 0 && n < math.MinInt64+1-off:
		return math.MinInt64 + 1
	case n+off == 0:
		return 1 // not "no time"
	}
	return n + off
}

// fromDB decodes a due or lease time read from the database onto this
// process's clock.
func (s *Store) fromDB(n int64) time.Time {
	if n == 0 || n == math.MaxInt64 || n == math.MinInt64+1 {
		return fromNanos(n)
	}
	off := s.offset.Load()
	switch {
	case off < 0 && n > math.MaxInt64+off:
		return fromNanos(math.MaxInt64)
	case off > 0 && n < math.MinInt64+1+off:
		return fromNanos(math.MinInt64 + 1)
	}
	return fromNanos(n - off)
}

// queueTimesFromDB moves a read record's due and lease times onto this
// process's clock.
func (s *Store) queueTimesFromDB(n *store.Notification) {
	n.NextAttemptAt = s.fromDB(nanos(n.NextAttemptAt))
	n.LockedUntil = s.fromDB(nanos(n.LockedUntil))
}
