package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/internal/rowcodec"
)

func (s *Store) collectNotifications(rows pgx.Rows) ([]*store.Notification, error) {
	defer rows.Close()
	var out []*store.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
		s.queueTimesFromDB(n)
		out = append(out, n)
	}
	return out, rows.Err()
}

// NotificationClaim leases up to p.Limit due, unleased, queued records in
// one statement (FOR UPDATE SKIP LOCKED, so concurrent claimers of any
// replica skip each other's rows), highest priority then lowest id first.
func (s *Store) NotificationClaim(ctx context.Context, p *store.NotificationClaimParams) ([]*store.Notification, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	now := s.toDB(p.Now)
	except := p.ExceptChannels
	if except == nil {
		except = []string{} // ANY of an empty array is false; of NULL, unknown
	}
	ids := p.IDs
	if ids == nil {
		ids = []int64{}
	}
	var out []*store.Notification
	err := func() error {
		rows, err := s.pool.Query(ctx, `UPDATE notifications
			SET locked_until = $1, locked_by = $2, updated_at = $10
			WHERE id IN (SELECT id FROM notifications
				WHERE state = 'queued' AND ($4 = '' OR channel = $4)
				AND next_attempt_at <= $3 AND locked_until <= $3 AND priority >= $6
				AND (NOT $7 OR failover <> '[]'::jsonb)
				AND NOT (channel = ANY($8))
				AND (cardinality($9::bigint[]) = 0 OR id = ANY($9))
				ORDER BY priority DESC, id LIMIT $5
				FOR UPDATE SKIP LOCKED)
			RETURNING `+notificationColumns,
			s.toDB(p.LeaseUntil), p.Owner, now, p.Channel, p.Limit, p.MinPriority, p.FailoverOnly, except, ids,
			nanos(p.Now))
		if err != nil {
			return err
		}
		out, err = s.collectNotifications(rows)
		return err
	}()
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
// leased by p.Owner to p.LeaseUntil; others are left alone. A zero
// LeaseUntil releases them and NOTIFYs Listen-ers.
func (s *Store) NotificationExtendLease(ctx context.Context, p *store.NotificationExtendLeaseParams) error {
	if len(p.IDs) == 0 {
		return nil
	}
	if p.LeaseUntil.IsZero() {
		// A release (a stopping dispatcher hands back what it never
		// attempted) wakes the other replicas so they claim the records
		// now rather than at their next sweep: one statement, so the
		// wake-up goes with the commit.
		_, err := s.pool.Exec(ctx, `WITH released AS (
			UPDATE notifications SET locked_until = 0
			WHERE id = ANY($2) AND (locked_by = $1 AND state = 'queued') IS TRUE RETURNING 1)
			SELECT pg_notify($3, '') FROM (SELECT count(*) AS n FROM released) r WHERE r.n > 0`,
			p.Owner, p.IDs, s.channel)
		if err != nil {
			return fmt.Errorf("release leases: %w", err)
		}
		return nil
	}
	// By primary key, in id order (as NotificationFinish locks rows), so
	// renewal and finishing cannot deadlock; IS TRUE keeps the owner and
	// state checks off the index choice (see notificationFinishOwned).
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET locked_until = $1
		WHERE id = ANY($3) AND (locked_by = $2 AND state = 'queued') IS TRUE`, s.toDB(p.LeaseUntil), p.Owner, p.IDs)
	if err != nil {
		return fmt.Errorf("extend lease: %w", err)
	}
	return nil
}

// finishSet is what a finish writes into a notification row.
const finishSet = `UPDATE notifications SET state = $1, attempts = $2, next_attempt_at = $3,
	last_error = $4, failed_over_to = $5, locked_until = 0, locked_by = '', updated_at = $6,
	sent_at = $7, sent_attempt = $8, sent_status = $9, sent_latency = $10, sent_detail = $11`

const notificationFinish = finishSet + ` WHERE id = $12 RETURNING alert_id, fingerprint, channel, event`

// notificationFinishOwned writes only a record still queued and leased by
// the finishing owner ($13). The check is wrapped in IS TRUE so the planner
// cannot use it as an index condition: under load it chose the queue index
// on state over the primary key, which scanned every queued row per finish
// (20,000 alerts took a minute instead of 4 s) and deadlocked with lease
// renewal.
const notificationFinishOwned = finishSet +
	` WHERE id = $12 AND (state = 'queued' AND locked_by = $13) IS TRUE RETURNING alert_id, fingerprint, channel, event`

const threadUpsert = `INSERT INTO threads (alert_id, channel, thread) VALUES ($1, $2, $3)
	ON CONFLICT (alert_id, channel) DO UPDATE SET thread = excluded.thread`

// NotificationFinish records a batch of outcomes in one transaction, in
// two round trips (updates, then log entries, threads and failovers). The
// lease is released. A Delivery's empty NotificationID, AlertID,
// Fingerprint, Channel and Event are filled in from the record; UpdatedAt
// is the Delivery's At, or the current time without one. A result naming a
// missing record fails the batch with store.ErrNotFound.
func (s *Store) NotificationFinish(ctx context.Context, p *store.NotificationFinishParams) ([]*store.Notification, error) {
	var out []*store.Notification
	// Rows are locked in id order, as lease renewal locks them, so the two
	// cannot deadlock.
	results := slices.SortedFunc(slices.Values(p.Results), func(a, b *store.NotificationResult) int {
		return cmp.Compare(a.ID, b.ID)
	})
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		type record struct{ alertID, fp, channel, event string }
		recs := make([]record, len(results))
		b := &pgx.Batch{}
		for i, r := range results {
			at := s.now()
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
			q, args := notificationFinish, []any{string(r.State), r.Attempts, s.toDB(r.NextAttemptAt), r.LastError,
				r.FailedOverTo, nanos(at), sentAt, sentAttempt, sentStatus, sentLatency, sentDetail, r.ID}
			if p.Owner != "" {
				q, args = notificationFinishOwned, append(args, p.Owner)
			}
			r.Skipped = false
			b.Queue(q, noNUL(args)...).QueryRow(func(row pgx.Row) error {
				rec := &recs[i]
				err := row.Scan(&rec.alertID, &rec.fp, &rec.channel, &rec.event)
				if errors.Is(err, pgx.ErrNoRows) && p.Owner != "" {
					r.Skipped = true
					return nil
				}
				if errors.Is(err, pgx.ErrNoRows) {
					return fmt.Errorf("notification %d: %w", r.ID, store.ErrNotFound)
				}
				if err != nil {
					return fmt.Errorf("update notification %d: %w", r.ID, err)
				}
				return nil
			})
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		b = &pgx.Batch{}
		for i, r := range results {
			if r.Skipped {
				continue
			}
			rec := recs[i]
			threadAlert := rec.alertID
			if d := r.Delivery; d != nil {
				rowcodec.FillDelivery(d, r.ID, rec.alertID, rec.fp, rec.channel, rec.event)
				switch inline := rowcodec.InlineSent(r); {
				case inline && rowcodec.SameRecord(d, rec.alertID, rec.fp, rec.channel, rec.event):
					d.ID = -r.ID // the delivery log lists inline entries under -notification id
				case inline:
					// The entry names another alert or channel than its row:
					// keep it as a row of its own.
					b.Queue(`UPDATE notifications SET sent_at = 0 WHERE id = $1`, r.ID)
					queueDelivery(b, d)
				default:
					queueDelivery(b, d)
				}
				threadAlert = d.AlertID
			}
			if r.Thread != "" {
				b.Queue(threadUpsert, noNUL([]any{threadAlert, rec.channel, r.Thread})...)
			}
			if r.Failover != nil {
				n, err := s.queueNotification(b, r.Failover)
				if err != nil {
					return err
				}
				out = append(out, n)
			}
		}
		if anyUnleased(out) {
			b.Queue(`SELECT pg_notify($1, '')`, s.channel)
		}
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, fmt.Errorf("finish notifications: %w", err)
	}
	return out, nil
}

// NotificationList returns records filtered by p, newest (highest id) first.
func (s *Store) NotificationList(ctx context.Context, p *store.NotificationListParams) ([]*store.Notification, error) {
	var (
		where []string
		a     args
	)
	if p.AlertID != "" {
		where = append(where, `alert_id = `+a.arg(p.AlertID))
	}
	if p.Channel != "" {
		where = append(where, `channel = `+a.arg(p.Channel))
	}
	if len(p.States) > 0 {
		states := make([]string, len(p.States))
		for i, st := range p.States {
			states[i] = string(st)
		}
		where = append(where, `state = ANY(`+a.arg(states)+`)`)
	}
	q := `SELECT ` + notificationColumns + ` FROM notifications`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id DESC`
	if p.Limit > 0 {
		q += ` LIMIT ` + a.arg(p.Limit)
	}
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	out, err := s.collectNotifications(rows)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	return out, nil
}

// NotificationStats counts queued records and finds when the next one that
// is not claimable at now becomes claimable.
func (s *Store) NotificationStats(ctx context.Context, now time.Time) (*store.QueueStats, error) {
	st := &store.QueueStats{PerChannel: map[string]int{}}
	rows, err := s.pool.Query(ctx, `SELECT channel, COUNT(*) FROM notifications
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
	n := s.toDB(now)
	if err := s.pool.QueryRow(ctx, `SELECT MIN(GREATEST(next_attempt_at, locked_until)) FROM notifications
		WHERE state = 'queued' AND (next_attempt_at > $1 OR locked_until > $1)`, n).Scan(&next); err != nil {
		return nil, fmt.Errorf("queue stats: %w", err)
	}
	if next.Valid {
		st.NextDue = s.fromDB(next.Int64)
	}
	return st, nil
}

// NotificationEarlier returns the alert's earliest queued notification on
// the channel below p.Sequence and above p.Above, or store.ErrNotFound.
func (s *Store) NotificationEarlier(ctx context.Context, p *store.NotificationEarlierParams) (*store.Notification, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE alert_id = $1 AND channel = $2 AND state = 'queued' AND sequence < $3 AND sequence > $4
		ORDER BY sequence, id LIMIT 1`, p.AlertID, p.Channel, p.Sequence, p.Above)
	if err != nil {
		return nil, fmt.Errorf("find earlier notification: %w", err)
	}
	out, err := s.collectNotifications(rows)
	if err != nil {
		return nil, fmt.Errorf("find earlier notification: %w", err)
	}
	if len(out) == 0 {
		return nil, store.ErrNotFound
	}
	return out[0], nil
}

// ThreadGet returns the thread handle of an alert and channel, or "".
func (s *Store) ThreadGet(ctx context.Context, p *store.ThreadGetParams) (string, error) {
	var th string
	err := s.pool.QueryRow(ctx, `SELECT thread FROM threads WHERE alert_id = $1 AND channel = $2`,
		p.AlertID, p.Channel).Scan(&th)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get thread: %w", err)
	}
	return th, nil
}
