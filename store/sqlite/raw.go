package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// The hot writes (Apply, NotificationFinish, DeliveryInsert) run their
// statements on the write connection's driver directly. Through
// database/sql, each execution converted its arguments into a fresh
// []driver.NamedValue and took the statement's and the connection's locks:
// a quarter of the bytes a delivered alert allocated. Writes are already
// serialised (wmu) on the pool's single connection, so database/sql's
// bookkeeping bought nothing there.

// rawStmts caches driver statements of the one write connection; conn is
// the driver connection they were prepared on (a new one, after
// database/sql replaced a broken connection, starts a new cache).
type rawStmts struct {
	conn  any
	stmts map[string]driver.Stmt
}

// close finalizes the statements when dc is still the connection they were
// prepared on (statements of a closed connection must not be touched).
func (c *rawStmts) close(dc any) {
	if c.conn == dc {
		for _, st := range c.stmts {
			_ = st.Close()
		}
	}
	c.conn, c.stmts = nil, nil
}

// txStmts runs statements inside one write transaction on the driver
// connection, each prepared once per connection.
type txStmts struct {
	ctx  context.Context
	conn any
	c    *rawStmts
	args []driver.NamedValue
}

func (t *txStmts) stmt(q string) (driver.Stmt, error) {
	if st, ok := t.c.stmts[q]; ok {
		return st, nil
	}
	p, ok := t.conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, errors.New("sqlite: the driver cannot prepare with a context")
	}
	st, err := p.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, err
	}
	t.c.stmts[q] = st
	return st, nil
}

// bind converts args to driver values in t's reused slice, as database/sql
// would: driver.Valuer (sql.NullInt64 and the like) by its Value, int
// widened to int64.
func (t *txStmts) bind(args []any) ([]driver.NamedValue, error) {
	t.args = t.args[:0]
	for i, a := range args {
		var v driver.Value
		switch x := a.(type) {
		case nil, int64, float64, bool, []byte, string:
			v = x
		case int:
			v = int64(x)
		case driver.Valuer:
			var err error
			if v, err = x.Value(); err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
		default:
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(a); err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
		}
		t.args = append(t.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return t.args, nil
}

// exec runs q with args.
func (t *txStmts) exec(q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	nv, err := t.bind(args)
	if err != nil {
		return nil, err
	}
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		return nil, errors.New("sqlite: the driver cannot execute with a context")
	}
	return ex.ExecContext(t.ctx, nv)
}

// queryRow runs q with args and scans the first row's text columns into
// dest; no row is sql.ErrNoRows.
func (t *txStmts) queryRow(q string, args []any, dest ...*string) error {
	st, err := t.stmt(q)
	if err != nil {
		return err
	}
	nv, err := t.bind(args)
	if err != nil {
		return err
	}
	qc, ok := st.(driver.StmtQueryContext)
	if !ok {
		return errors.New("sqlite: the driver cannot query with a context")
	}
	rows, err := qc.QueryContext(t.ctx, nv)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(vals); err != nil {
		if errors.Is(err, io.EOF) {
			return sql.ErrNoRows
		}
		return err
	}
	for i, d := range dest {
		switch v := vals[i].(type) {
		case string:
			*d = v
		case []byte:
			*d = string(v)
		case nil:
			*d = ""
		default:
			return fmt.Errorf("column %d: %T is not text", i, v)
		}
	}
	return nil
}

// writeStmts runs fn in one write transaction on the driver connection:
// durable (synchronous=FULL) when full, else surviving a crash of the
// process only (see writeRelaxed). It commits when fn returns nil.
func (s *Store) writeStmts(ctx context.Context, full bool, fn func(st *txStmts) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// As in writeSync: a write, once begun, runs to its end.
	ctx = context.WithoutCancel(ctx)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		if s.raw.conn != dc {
			// database/sql replaced the connection (it closes one that
			// failed or whose Raw callback panicked): the old statements
			// went with it. The new one starts with the DSN's
			// synchronous=FULL.
			s.raw = rawStmts{conn: dc, stmts: map[string]driver.Stmt{}}
			s.syncFull = true
		}
		if err := s.setSync(ctx, dc, full); err != nil {
			return err
		}
		b, ok := dc.(driver.ConnBeginTx)
		if !ok {
			return errors.New("sqlite: the driver cannot begin with a context")
		}
		tx, err := b.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		// Rolled back on an error (a failed commit included) and on a
		// panic: the connection goes back to the pool, and must not carry
		// a transaction with it.
		done := false
		defer func() {
			if !done {
				_ = tx.Rollback()
			}
		}()
		if err := fn(&txStmts{ctx: ctx, conn: dc, c: &s.raw}); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		done = true
		return nil
	})
}

// setSync sets the synchronous mode of the driver connection dc when it
// differs from full. Must hold wmu.
func (s *Store) setSync(ctx context.Context, dc any, full bool) error {
	if s.syncFull == full {
		return nil
	}
	mode := "NORMAL"
	if full {
		mode = "FULL"
	}
	ex, ok := dc.(driver.ExecerContext)
	if !ok {
		return errors.New("sqlite: the driver cannot execute with a context")
	}
	if _, err := ex.ExecContext(ctx, "PRAGMA synchronous = "+mode, nil); err != nil {
		return fmt.Errorf("set synchronous: %w", err)
	}
	s.syncFull = full
	return nil
}
