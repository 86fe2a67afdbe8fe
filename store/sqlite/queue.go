package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/internal/rowcodec"
)

func collectNotifications(rows *sql.Rows) ([]*store.Notification, error) {
	defer rows.Close()
	var out []*store.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// NotificationClaim leases up to p.Limit due, unleased, queued records in
// one statement, highest priority then lowest id first.
func (s *Store) NotificationClaim(ctx context.Context, p *store.NotificationClaimParams) ([]*store.Notification, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	now := nanos(p.Now)
	var out []*store.Notification
	err := s.writeRelaxed(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE notifications
			SET locked_until = ?1, locked_by = ?2, updated_at = ?3
			WHERE id IN (SELECT id FROM notifications
				WHERE state = 'queued' AND (?4 = '' OR channel = ?4)
				AND next_attempt_at <= ?3 AND locked_until <= ?3
				ORDER BY priority DESC, id LIMIT ?5)
			RETURNING `+notificationColumns,
			nanos(p.LeaseUntil), p.Owner, now, p.Channel, p.Limit)
		if err != nil {
			return err
		}
		out, err = collectNotifications(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	// RETURNING gives no order guarantee.
	slices.SortFunc(out, func(a, b *store.Notification) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// NotificationExtendLease moves the lease of the queued rows in p.IDs still
// leased by p.Owner to p.LeaseUntil; others are left alone.
func (s *Store) NotificationExtendLease(ctx context.Context, p *store.NotificationExtendLeaseParams) error {
	if len(p.IDs) == 0 {
		return nil
	}
	args := []any{nanos(p.LeaseUntil), p.Owner}
	for _, id := range p.IDs {
		args = append(args, id)
	}
	err := s.writeRelaxed(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE notifications SET locked_until = ?
			WHERE locked_by = ? AND state = 'queued' AND id IN (`+placeholders(len(p.IDs))+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("extend lease: %w", err)
	}
	return nil
}

// finishColumns are the values one outcome sets, in the order of the
// finishBatch statement's VALUES rows.
const finishColumns = `id, state, attempts, next_attempt_at, last_error, failed_over_to, updated_at,
	sent_at, sent_attempt, sent_status, sent_latency, sent_detail`

// finishRowsMax is the largest finishBatch statement: a batch is written
// with statements of power-of-two sizes up to it (45 = 32+8+4+1), so a few
// statements prepared once at Open serve every batch size.
const finishRowsMax = 64

// finishBatch returns the statement that records n outcomes at once (one
// statement instead of n: on a busy queue the per-statement cost of
// database/sql and the driver was most of a finish). The RETURNING row
// names the record, which the delivery log and the thread need.
func finishBatch(n int) string {
	var b strings.Builder
	b.WriteString(`WITH v(` + finishColumns + `) AS (VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(`)
	UPDATE notifications SET state = v.state, attempts = v.attempts, next_attempt_at = v.next_attempt_at,
		last_error = v.last_error, failed_over_to = v.failed_over_to, locked_until = 0, locked_by = '',
		updated_at = v.updated_at, sent_at = v.sent_at, sent_attempt = v.sent_attempt,
		sent_status = v.sent_status, sent_latency = v.sent_latency, sent_detail = v.sent_detail
	FROM v WHERE notifications.id = v.id
	RETURNING notifications.id, alert_id, fingerprint, channel, event`)
	return b.String()
}

// finishStatements are the finishBatch sizes prepared at Open.
func finishStatements() []string {
	var out []string
	for n := 1; n <= finishRowsMax; n *= 2 {
		out = append(out, finishBatch(n))
	}
	return out
}

var finishBatches = finishStatements()

// finishedRow is what RETURNING tells about an updated record.
type finishedRow struct{ alertID, fp, channel, event string }

const threadUpsert = `INSERT INTO threads (alert_id, channel, thread) VALUES (?, ?, ?)
	ON CONFLICT (alert_id, channel) DO UPDATE SET thread = excluded.thread`

// NotificationFinish records a batch of outcomes in one transaction. The
// lease is released. A Delivery's empty NotificationID, AlertID,
// Fingerprint, Channel and Event are filled in from the record; UpdatedAt
// is the Delivery's At, or the current time without one. A result naming a
// missing record fails the batch with store.ErrNotFound. When a batch names
// a record twice, the later result wins, as if they were written in order.
func (s *Store) NotificationFinish(ctx context.Context, p *store.NotificationFinishParams) ([]*store.Notification, error) {
	var out []*store.Notification
	err := s.writeRelaxed(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		st := s.newTxStmts(ctx, tx)
		defer st.close()
		rows := make(map[int64]finishedRow, len(p.Results))
		for results := p.Results; len(results) > 0; {
			// A chunk holds distinct records (UPDATE FROM would apply only
			// one of two VALUES rows naming the same record) and is
			// finished before the next one starts, so a record named twice
			// ends as the later result says.
			n := distinctPrefix(results, finishRowsMax)
			chunk := results[:n]
			results = results[n:]
			clear(rows)
			if err := updateFinished(st, chunk, rows); err != nil {
				return err
			}
			for _, r := range chunk {
				n, err := finishFollowUp(ctx, tx, st, r, rows)
				if err != nil {
					return err
				}
				if n != nil {
					out = append(out, n)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finish notifications: %w", err)
	}
	return out, nil
}

// finishFollowUp writes what else r records once its row is updated: the
// delivery log entry (inline in the row when it is a plain success), the
// thread handle, and the failover record, which it returns.
func finishFollowUp(ctx context.Context, tx *sql.Tx, st *txStmts, r *store.NotificationResult, rows map[int64]finishedRow) (*store.Notification, error) {
	row, ok := rows[r.ID]
	if !ok {
		return nil, fmt.Errorf("notification %d: %w", r.ID, store.ErrNotFound)
	}
	threadAlert := row.alertID
	if d := r.Delivery; d != nil {
		rowcodec.FillDelivery(d, r.ID, row.alertID, row.fp, row.channel, row.event)
		inline := rowcodec.InlineSent(r)
		switch {
		case inline && rowcodec.SameRecord(d, row.alertID, row.fp, row.channel, row.event):
			d.ID = -r.ID // the delivery log lists inline entries under -notification id
		case inline:
			// The entry names another alert or channel than its row:
			// keep it as a row of its own.
			if _, err := tx.ExecContext(ctx, `UPDATE notifications SET sent_at = 0 WHERE id = ?`, r.ID); err != nil {
				return nil, fmt.Errorf("update notification %d: %w", r.ID, err)
			}
			fallthrough
		default:
			if err := insertDelivery(st, d); err != nil {
				return nil, err
			}
		}
		threadAlert = d.AlertID
	}
	if r.Thread != "" {
		if _, err := st.exec(threadUpsert, threadAlert, row.channel, r.Thread); err != nil {
			return nil, fmt.Errorf("write thread: %w", err)
		}
	}
	if r.Failover == nil {
		return nil, nil
	}
	return insertNotification(st, r.Failover)
}

// distinctPrefix returns how many leading results (at most limit) name
// distinct records.
func distinctPrefix(results []*store.NotificationResult, limit int) int {
	n := 0
	for n < len(results) && n < limit {
		for _, r := range results[:n] {
			if r.ID == results[n].ID {
				return n
			}
		}
		n++
	}
	return n
}

// updateFinished writes the outcomes' new state with finishBatch statements
// of power-of-two sizes and records in rows what RETURNING said about each
// updated record. The results must name distinct records.
func updateFinished(st *txStmts, results []*store.NotificationResult, rows map[int64]finishedRow) error {
	args := make([]any, 0, 12*len(results))
	for len(results) > 0 {
		n := finishRowsMax
		for n > len(results) {
			n /= 2
		}
		args = args[:0]
		for _, r := range results[:n] {
			args = appendFinishArgs(args, r)
		}
		if err := runFinish(st, finishBatches[bits.Len(uint(n))-1], args, rows); err != nil {
			return err
		}
		results = results[n:]
	}
	return nil
}

// appendFinishArgs appends one VALUES row (finishColumns) for r.
func appendFinishArgs(args []any, r *store.NotificationResult) []any {
	at := time.Now()
	if r.Delivery != nil && !r.Delivery.At.IsZero() {
		at = r.Delivery.At
	}
	var sentAt, sentLatency int64
	var sentAttempt, sentStatus int
	var sentDetail string
	if rowcodec.InlineSent(r) {
		d := r.Delivery
		sentAt, sentAttempt, sentStatus, sentLatency, sentDetail = nanos(at), d.Attempt, d.StatusCode, int64(d.Latency), d.Detail
	}
	return append(args, r.ID, string(r.State), r.Attempts, nanos(r.NextAttemptAt), r.LastError,
		r.FailedOverTo, nanos(at), sentAt, sentAttempt, sentStatus, sentLatency, sentDetail)
}

func runFinish(st *txStmts, q string, args []any, into map[int64]finishedRow) error {
	stmt, err := st.get(q)
	if err != nil {
		return err
	}
	rs, err := stmt.QueryContext(st.ctx, args...)
	if err != nil {
		return fmt.Errorf("update notifications: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			id  int64
			row finishedRow
		)
		if err := rs.Scan(&id, &row.alertID, &row.fp, &row.channel, &row.event); err != nil {
			return fmt.Errorf("update notifications: %w", err)
		}
		into[id] = row
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("update notifications: %w", err)
	}
	return nil
}

// NotificationList returns records filtered by p, newest (highest id) first.
func (s *Store) NotificationList(ctx context.Context, p *store.NotificationListParams) ([]*store.Notification, error) {
	var (
		where []string
		args  []any
	)
	if p.AlertID != "" {
		where = append(where, `alert_id = ?`)
		args = append(args, p.AlertID)
	}
	if p.Channel != "" {
		where = append(where, `channel = ?`)
		args = append(args, p.Channel)
	}
	if len(p.States) > 0 {
		where = append(where, `state IN (`+placeholders(len(p.States))+`)`)
		for _, st := range p.States {
			args = append(args, string(st))
		}
	}
	q := `SELECT ` + notificationColumns + ` FROM notifications`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id DESC`
	if p.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, p.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	out, err := collectNotifications(rows)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return out, nil
}

// NotificationStats counts queued records and finds when the next one that
// is not claimable at now becomes claimable.
func (s *Store) NotificationStats(ctx context.Context, now time.Time) (*store.QueueStats, error) {
	st := &store.QueueStats{PerChannel: map[string]int{}}
	rows, err := s.r.QueryContext(ctx, `SELECT channel, COUNT(*) FROM notifications
		WHERE state = 'queued' GROUP BY channel`)
	if err != nil {
		return nil, fmt.Errorf("queue stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ch string
			n  int
		)
		if err := rows.Scan(&ch, &n); err != nil {
			return nil, fmt.Errorf("queue stats: %w", err)
		}
		st.PerChannel[ch] = n
		st.Queued += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue stats: %w", err)
	}
	var next sql.NullInt64
	n := nanos(now)
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(MAX(next_attempt_at, locked_until)) FROM notifications
		WHERE state = 'queued' AND (next_attempt_at > ?1 OR locked_until > ?1)`, n).Scan(&next); err != nil {
		return nil, fmt.Errorf("queue stats: %w", err)
	}
	if next.Valid {
		st.NextDue = fromNanos(next.Int64)
	}
	return st, nil
}

// ThreadGet returns the thread handle of an alert and channel, or "".
func (s *Store) ThreadGet(ctx context.Context, p *store.ThreadGetParams) (string, error) {
	var th string
	err := s.r.QueryRowContext(ctx, `SELECT thread FROM threads WHERE alert_id = ? AND channel = ?`,
		p.AlertID, p.Channel).Scan(&th)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get thread: %w", err)
	}
	return th, nil
}
