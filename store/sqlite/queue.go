package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// claimDue selects the ids a claim takes: ?3 is now, ?4 the channel (empty
// for all), ?5 the limit, ?6 the least priority, ?7 whether only records
// with a failover chain; except is "" or an AND clause leaving channels out.
// It walks notifications_claim_order in claim order and stops at the limit,
// sorting nothing (0007_claim_order.sql).
func claimDue(except string) string {
	return `SELECT id FROM notifications
	WHERE state = 'queued' AND (?4 = '' OR channel = ?4)
	AND next_attempt_at <= ?3 AND locked_until <= ?3 AND priority >= ?6
	AND (?7 = 0 OR failover <> '[]')` + except + `
	ORDER BY priority DESC, id LIMIT ?5`
}

// claimAll is the claim of the sweep's common case, built once.
var claimAll = claimDue("")

// NotificationClaim leases up to p.Limit due, unleased, queued records in
// one statement, highest priority then lowest id first.
func (s *Store) NotificationClaim(ctx context.Context, p *store.NotificationClaimParams) ([]*store.Notification, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	now := nanos(p.Now)
	args := []any{nanos(p.LeaseUntil), p.Owner, now, p.Channel, p.Limit, p.MinPriority, p.FailoverOnly}
	due := claimAll
	if len(p.ExceptChannels) > 0 || len(p.IDs) > 0 {
		// Numbered parameters after the seven above.
		var b strings.Builder
		in := func(col, not string, vals []any) {
			if len(vals) == 0 {
				return
			}
			fmt.Fprintf(&b, " AND %s %sIN (", col, not)
			for i, v := range vals {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "?%d", len(args)+1)
				args = append(args, v)
			}
			b.WriteString(")")
		}
		except := make([]any, len(p.ExceptChannels))
		for i, c := range p.ExceptChannels {
			except[i] = c
		}
		in("channel", "NOT ", except)
		ids := make([]any, len(p.IDs))
		for i, id := range p.IDs {
			ids[i] = id
		}
		in("id", "", ids)
		due = claimDue(b.String())
	}
	var out []*store.Notification
	err := s.writeRelaxed(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE notifications
			SET locked_until = ?1, locked_by = ?2, updated_at = ?3
			WHERE id IN (`+due+`)
			RETURNING `+notificationColumns, args...)
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

// finishSet is what a finish writes into a notification row.
const finishSet = `UPDATE notifications SET state = ?, attempts = ?, next_attempt_at = ?,
	last_error = ?, failed_over_to = ?, locked_until = 0, locked_by = '', updated_at = ?,
	sent_at = ?, sent_attempt = ?, sent_status = ?, sent_latency = ?, sent_detail = ?`

// notificationFinish reads back what names the record, for a result whose
// delivery leaves it out.
const notificationFinish = finishSet + ` WHERE id = ? RETURNING alert_id, fingerprint, channel, event`

// notificationFinishNamed is for a result whose delivery names the record
// (the dispatcher's always do): the row is updated only when it is that
// record, and an Exec is cheaper than reading a row back. When it updates
// nothing, notificationFinish finds out why.
const notificationFinishNamed = finishSet + ` WHERE id = ? AND alert_id = ? AND fingerprint = ? AND channel = ? AND event = ?`

const threadUpsert = `INSERT INTO threads (alert_id, channel, thread) VALUES (?, ?, ?)
	ON CONFLICT (alert_id, channel) DO UPDATE SET thread = excluded.thread`

// NotificationFinish records a batch of outcomes in one transaction. The
// lease is released. A Delivery's empty NotificationID, AlertID,
// Fingerprint, Channel and Event are filled in from the record; UpdatedAt
// is the Delivery's At, or the current time without one. A result naming a
// missing record fails the batch with store.ErrNotFound.
func (s *Store) NotificationFinish(ctx context.Context, p *store.NotificationFinishParams) ([]*store.Notification, error) {
	var out []*store.Notification
	err := s.writeStmts(ctx, false, func(st *txStmts) error {
		out = out[:0]
		for _, r := range p.Results {
			at := time.Now()
			if r.Delivery != nil && !r.Delivery.At.IsZero() {
				at = r.Delivery.At
			}
			inline := rowcodec.InlineSent(r)
			var sentAt, sentLatency int64
			var sentAttempt, sentStatus int
			var sentDetail string
			if inline {
				d := r.Delivery
				sentAt, sentAttempt, sentStatus, sentLatency, sentDetail = nanos(at), d.Attempt, d.StatusCode, int64(d.Latency), d.Detail
			}
			set := []any{string(r.State), r.Attempts, nanos(r.NextAttemptAt), r.LastError, r.FailedOverTo,
				nanos(at), sentAt, sentAttempt, sentStatus, sentLatency, sentDetail, r.ID}
			alertID, fp, channel, event, err := finishRow(st, r, set)
			if err != nil {
				return err
			}
			threadAlert := alertID
			if d := r.Delivery; d != nil {
				rowcodec.FillDelivery(d, r.ID, alertID, fp, channel, event)
				switch {
				case inline && rowcodec.SameRecord(d, alertID, fp, channel, event):
					d.ID = -r.ID // the delivery log lists inline entries under -notification id
				case inline:
					// The entry names another alert or channel than its row:
					// keep it as a row of its own.
					if _, err := st.exec(`UPDATE notifications SET sent_at = 0 WHERE id = ?`, r.ID); err != nil {
						return fmt.Errorf("update notification %d: %w", r.ID, err)
					}
					fallthrough
				default:
					if err := insertDelivery(st, d); err != nil {
						return err
					}
				}
				threadAlert = d.AlertID
			}
			if r.Thread != "" {
				if _, err := st.exec(threadUpsert, threadAlert, channel, r.Thread); err != nil {
					return fmt.Errorf("write thread: %w", err)
				}
			}
			if r.Failover != nil {
				n, err := insertNotification(st, r.Failover)
				if err != nil {
					return err
				}
				out = append(out, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finish notifications: %w", err)
	}
	return out, nil
}

// finishRow updates r's row with the values in set (finishSet's, then the
// id) and returns what names the record.
func finishRow(st *txStmts, r *store.NotificationResult, set []any) (alertID, fp, channel, event string, err error) {
	if d := r.Delivery; d != nil && d.NotificationID == r.ID && d.AlertID != "" && d.Fingerprint != "" &&
		d.Channel != "" && d.Event != "" {
		res, err := st.exec(notificationFinishNamed, append(set, d.AlertID, string(d.Fingerprint), d.Channel, d.Event)...)
		if err != nil {
			return "", "", "", "", fmt.Errorf("update notification %d: %w", r.ID, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return d.AlertID, string(d.Fingerprint), d.Channel, d.Event, nil
		}
	}
	err = st.queryRow(notificationFinish, set, &alertID, &fp, &channel, &event)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", "", fmt.Errorf("notification %d: %w", r.ID, store.ErrNotFound)
	}
	if err != nil {
		return "", "", "", "", fmt.Errorf("update notification %d: %w", r.ID, err)
	}
	return alertID, fp, channel, event, nil
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

// NotificationEarlier returns the alert's earliest queued notification on
// the channel below p.Sequence and above p.Above, or store.ErrNotFound.
func (s *Store) NotificationEarlier(ctx context.Context, p *store.NotificationEarlierParams) (*store.Notification, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE alert_id = ? AND channel = ? AND state = 'queued' AND sequence < ? AND sequence > ?
		ORDER BY sequence, id LIMIT 1`, p.AlertID, p.Channel, p.Sequence, p.Above)
	if err != nil {
		return nil, fmt.Errorf("find earlier notification: %w", err)
	}
	out, err := collectNotifications(rows)
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
