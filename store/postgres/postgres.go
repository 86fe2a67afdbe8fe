// Package postgres is klaxon's store for several replicas sharing one
// PostgreSQL database, built on github.com/jackc/pgx/v5 (pgxpool).
//
// Claims use UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED), so
// replicas never hand the same record to two workers, and an expired lease
// (a crashed replica) makes its records claimable again. Apply and
// NotificationFinish send NOTIFY when they queue records; Listen delivers
// those wake-ups to the dispatcher of every replica.
//
// # Limits
//
//   - Times are stored as unix nanoseconds (BIGINT), not timestamptz, which
//     keeps only microseconds; they round-trip exactly, in UTC, between the
//     years 1678 and 2262. The zero time is stored as 0.
//   - A notification's due and lease times (next_attempt_at, locked_until)
//     are stored on the database's clock, so replicas whose clocks differ
//     agree on when a record is due and when a lease ends (clock.go).
//     Callers pass and get them on their own clock; read back, they move by
//     however much the measured offset moved since they were written
//     (microseconds).
//   - Schema migrations are embedded (migrations/*.sql), versioned in the
//     schema_version table and applied on Open under an advisory lock, so
//     replicas starting together migrate once. A database written by a newer
//     klaxon is refused.
//   - Options.Schema puts every table in one schema (created when missing);
//     NOTIFY channels are per schema, so two klaxons in two schemas of one
//     database do not wake each other.
package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgconn"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klaxonhq/klaxon/secret"
	"github.com/klaxonhq/klaxon/store"
)

// Options tunes Open. A nil *Options means all defaults.
type Options struct {
	// Schema is the schema klaxon's tables live in, created when missing.
	// Default: the connection's search_path (usually "public").
	Schema string
	// MaxConns caps the pool. Default: pgxpool's (max(4, NumCPU)), or the
	// URL's pool_max_conns.
	MaxConns int32
	// Now is this process's clock, the one callers' times are on (the
	// queue's times are stored on the database's: clock.go). Default
	// time.Now; tests skew it.
	Now func() time.Time
}

// Store is the PostgreSQL backend. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	cfg  *pgx.ConnConfig
	// channel is the NOTIFY channel of this schema.
	channel string

	// term is the leadership term Apply is fenced with: 0 when this store
	// never campaigned (no fence), -1 once its term ended (leader.go).
	term atomic.Int64

	// offset is the database's clock less this process's (now), in
	// nanoseconds: the queue's times are stored on the database's clock.
	offset atomic.Int64
	now    func() time.Time
	// offsetMu guards offsetRTT and offsetAt: the round trip of the
	// measurement the offset came from, and when it was taken.
	offsetMu  sync.Mutex
	offsetRTT time.Duration
	offsetAt  time.Time

	// closeMu guards closed, so no goroutine joins wg once Close waits.
	closeMu sync.Mutex
	closed  bool

	// ctx lives from Open to Close; Listen's goroutines stop with it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or key=value
// string) and brings the schema up to date. Errors never contain the URL.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	scrub := secret.New(url)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's text quotes the connection string with the password masked
		// only where it can find it: in a malformed one (an unencoded / or
		// ? in a password) pieces of the password show. So none of it is
		// repeated here; check-config gives a reason that is safe to show.
		return nil, errors.New("parse database url: not a valid PostgreSQL connection string " +
			"(`klaxon check-config` says what is wrong; characters such as @ : / ? # % in a password must be percent-encoded)")
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	channel := "klaxon_queue"
	if o.Schema != "" {
		// Quoted, as CREATE SCHEMA quotes it: a name with capitals or
		// other characters means that schema, not a lower-cased one.
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.Schema}.Sanitize()
		channel += "_" + o.Schema
		if len(channel) > 63 { // PostgreSQL's identifier limit
			sum := sha256.Sum256([]byte(o.Schema))
			channel = "klaxon_queue_" + hex.EncodeToString(sum[:12])
		}
	}
	cfg.AfterConnect = sessionSettings
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %s", scrub.Scrub(err.Error()))
	}
	if o.Schema != "" {
		create := `CREATE SCHEMA IF NOT EXISTS ` + pgx.Identifier{o.Schema}.Sanitize()
		_, err := pool.Exec(ctx, create)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P06") {
			// Another replica created it at the same instant.
			_, err = pool.Exec(ctx, create)
		}
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("create schema: %s", scrub.Scrub(err.Error()))
		}
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate: %s", scrub.Scrub(err.Error()))
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Store{pool: pool, cfg: cfg.ConnConfig, channel: channel, ctx: lctx, cancel: cancel, now: o.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.measureOffset(ctx); err != nil {
		cancel()
		pool.Close()
		return nil, fmt.Errorf("read the database's clock: %s", scrub.Scrub(err.Error()))
	}
	s.wg.Go(s.keepOffset)
	return s, nil
}

// sessionSettings bound what a vanished klaxon leaves behind on the server.
// A transaction abandoned half way (the process or its network gone before
// COMMIT) would otherwise hold its row locks until the operating system's
// keepalive gives up, hours later; the leader row among them, which a new
// leader's takeover must update. Each is best effort: older servers lack
// some, and a Unix socket has no TCP settings.
func sessionSettings(ctx context.Context, conn *pgx.Conn) error {
	for _, set := range []string{
		"SET idle_in_transaction_session_timeout = '30s'",
		"SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2", "SET tcp_keepalives_count = 3",
		"SET tcp_user_timeout = 10000",
	} {
		_, _ = conn.Exec(ctx, set)
	}
	return nil
}

// Close stops Listen's goroutines and closes the pool.
func (s *Store) Close() error {
	s.closeMu.Lock()
	s.closed = true
	s.closeMu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.pool.Close()
	return nil
}

// Listen returns a channel that receives a value whenever a replica (this
// one included) queues notifications, so dispatchers wake without polling.
// Wake-ups coalesce: one value may stand for many. The channel is closed
// when ctx ends or the store closes. A lost connection is re-established
// (with a wake-up, since notices may have been missed meanwhile).
func (s *Store) Listen(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	s.wg.Go(func() {
		defer close(out)
		defer stop()
		defer cancel()
		wake := func() {
			select {
			case out <- struct{}{}:
			default:
			}
		}
		for first := true; ctx.Err() == nil; first = false {
			if !first {
				wake()
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
			conn, err := pgx.ConnectConfig(ctx, s.cfg)
			if err != nil {
				continue
			}
			if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{s.channel}.Sanitize()); err == nil {
				for {
					if _, err := conn.WaitForNotification(ctx); err != nil {
						break
					}
					wake()
				}
			}
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	})
	return out
}

// write runs fn in one transaction, committed when fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A panic in fn must not leave the connection out of the pool inside
	// a transaction, holding the row locks it took.
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// args numbers query parameters: each arg call adds one and returns "$n".
type args []any

func (a *args) arg(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

var errNoAlert = errors.New("no alert")
