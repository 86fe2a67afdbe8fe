package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/store"
)

// Leadership is a session advisory lock held on a connection of its own:
// PostgreSQL releases it the moment that session ends, so when the leader's
// process dies (or its connection does) the next replica to try takes over.
// The leader pings its connection; a failed ping ends its term at once,
// since the lock may already be someone else's.
const (
	pingEvery   = time.Second
	pingTimeout = 3 * time.Second
	lockWait    = "10s"
)

var _ store.Leadership = (*Store)(nil)

// leaderLock is the advisory lock key of this schema's leadership (NOTIFY
// channels are per schema, and so are replica sets).
func (s *Store) leaderLock() int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("klaxon-leader:" + s.channel))
	return int64(h.Sum64())
}

// TryLead implements store.Leadership: when the lock is free it takes it on
// a connection of its own and records self in the leader table with the
// next term. Apply is fenced with that term until the term ends.
func (s *Store) TryLead(ctx context.Context, self store.Replica) (store.Term, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, errors.New("store closed")
	}
	key := s.leaderLock()
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	// The server must notice a leader that vanished (a cut network, a
	// powered-off machine) to free the lock: sessionSettings' keepalives
	// drop a silent peer in about 10 s instead of hours. A takeover that
	// waits for the leader row longer than lockWait gives the lock back
	// and is tried again.
	_ = sessionSettings(ctx, conn)
	_, _ = conn.Exec(ctx, "SET lock_timeout = '"+lockWait+"'")
	term, err := takeLead(ctx, conn, key, self)
	if err != nil || term == 0 {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	t, err := s.startTerm(conn, key, term)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// takeLead takes the lock when free and writes the leader row; term 0
// means another replica leads.
func takeLead(ctx context.Context, conn *pgx.Conn, key int64, self store.Replica) (int64, error) {
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil || !got {
		return 0, err
	}
	// The update waits for the previous leader's Apply in flight (it holds
	// the row FOR SHARE); every later Apply of that leader sees the new term.
	var term int64
	err := conn.QueryRow(ctx, `INSERT INTO leader (id, term, replica, url, since) VALUES (1, 1, $1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET term = leader.term + 1, replica = excluded.replica,
			url = excluded.url, since = excluded.since
		RETURNING term`, self.ID, self.URL, nanos(time.Now())).Scan(&term)
	if err != nil {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)
		return 0, fmt.Errorf("record leader: %w", err)
	}
	return term, nil
}

// term is one lead held on conn.
type term struct {
	lost   chan struct{}
	resign chan struct{}
	once   sync.Once
}

func (t *term) Lost() <-chan struct{} { return t.lost }
func (t *term) Resign()               { t.once.Do(func() { close(t.resign) }) }

func (s *Store) startTerm(conn *pgx.Conn, key, n int64) (*term, error) {
	t := &term{lost: make(chan struct{}), resign: make(chan struct{})}
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		_ = conn.Close(context.Background())
		return nil, errors.New("store closed")
	}
	s.term.Store(n)
	s.wg.Go(func() {
		defer close(t.lost)
		tick := time.NewTicker(pingEvery)
		defer tick.Stop()
		for {
			select {
			case <-t.resign:
			case <-s.ctx.Done():
			case <-tick.C:
				pctx, cancel := context.WithTimeout(s.ctx, pingTimeout)
				err := conn.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
			}
			break
		}
		// Fence first: from here this process's Apply fails until it leads
		// again, whatever happens to the lock.
		s.term.CompareAndSwap(n, -1)
		uctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
		defer cancel()
		_, _ = conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, key)
		_ = conn.Close(uctx)
	})
	return t, nil
}

// Leader implements store.Leadership.
func (s *Store) Leader(ctx context.Context) (store.Replica, error) {
	var r store.Replica
	err := s.pool.QueryRow(ctx, `SELECT replica, url FROM leader WHERE id = 1`).Scan(&r.ID, &r.URL)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, store.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("read leader: %w", err)
	}
	return r, nil
}

// fence fails with store.ErrNotLeader unless this store's term is the
// current one (no check before it ever led), and holds the leader row for
// the rest of tx, so a takeover waits for tx.
func (s *Store) fence(ctx context.Context, tx pgx.Tx) error {
	term := s.term.Load()
	if term == 0 {
		return nil
	}
	var got int64
	return fenceResult(tx.QueryRow(ctx, fenceQuery).Scan(&got), got, term)
}

// fenceQuery starts a fenced Apply: it locks the leader row for the
// transaction and reads the current term.
const fenceQuery = `SELECT term FROM leader WHERE id = 1 FOR SHARE`

// checkFence reads fenceQuery's answer: ErrNotLeader unless it is want.
func checkFence(br pgx.BatchResults, want int64) error {
	var got int64
	return fenceResult(br.QueryRow().Scan(&got), got, want)
}

// fenceResult judges a read of the term: ErrNotLeader when there is no
// leader row or its term is not want.
func fenceResult(err error, got, want int64) error {
	switch {
	case errors.Is(err, pgx.ErrNoRows), err == nil && got != want:
		return store.ErrNotLeader
	case err != nil:
		return fmt.Errorf("read leader term: %w", err)
	}
	return nil
}
