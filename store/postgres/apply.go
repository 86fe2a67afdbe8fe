package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

const transitionInsert = `INSERT INTO transitions
	(alert_id, sequence, fingerprint, from_state, to_state, at, kind, "by", comment, value)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

const notificationInsert = `INSERT INTO notifications (idempotency_key, alert_id, fingerprint,
	sequence, channel, event, priority, payload, group_key, failover, state, attempts, created_at,
	next_attempt_at, locked_until, locked_by, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $12, $13, $14, $15, $16)`

const deliveryInsert = `INSERT INTO deliveries (notification_id, alert_id, fingerprint, channel,
	event, attempt, at, outcome, reason, status_code, latency, error, detail)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// Apply writes the changes, their transitions, notifications and decision
// log entries in one transaction, sent as one batch (one round trip): all or
// nothing. A change that breaks a constraint (a second open alert for a
// fingerprint, a repeated transition sequence) rolls back the whole batch.
// When it queues records that any replica may claim (not leased to the
// writer, which gets them in process), it NOTIFYs Listen-ers on commit. Once this store
// has taken the lead (TryLead), it writes only while its term is the current
// one, and fails with store.ErrNotLeader otherwise.
func (s *Store) Apply(ctx context.Context, p *store.ApplyParams) ([]*store.Notification, error) {
	var out []*store.Notification
	err := s.write(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		b := &pgx.Batch{}
		term := s.term.Load()
		if term != 0 {
			b.Queue(fenceQuery)
		}
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.Alert == nil {
				return fmt.Errorf("change %d: %w", i, errNoAlert)
			}
			args, err := alertArgs(c.Alert)
			if err != nil {
				return fmt.Errorf("alert %s: %w", c.Alert.ID, err)
			}
			b.Queue(alertUpsert, noNUL(args)...)
			if t := c.Transition; t != nil {
				queueTransition(b, c.Alert, t)
			}
			for _, ni := range c.Notifications {
				n, err := s.queueNotification(b, ni)
				if err != nil {
					return err
				}
				out = append(out, n)
			}
			for _, d := range c.Deliveries {
				queueDelivery(b, d)
			}
		}
		if anyUnleased(out) {
			b.Queue(`SELECT pg_notify($1, '')`, s.channel)
		}
		br := tx.SendBatch(ctx, b)
		if term != 0 {
			if err := checkFence(br, term); err != nil {
				_ = br.Close()
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	return out, nil
}

func queueTransition(b *pgx.Batch, a *alert.Alert, t *alert.Transition) {
	id, fp := t.AlertID, t.Fingerprint
	if id == "" {
		id = a.ID
	}
	if fp == "" {
		fp = a.Fingerprint
	}
	b.Queue(transitionInsert, noNUL([]any{id, t.Sequence, string(fp), string(t.From), string(t.To),
		nanos(t.At), t.Kind, t.By, t.Comment, t.Value})...)
}

// queueNotification queues the insert of a record and returns it as it will
// be stored; its ID is set when the batch runs.
func (s *Store) queueNotification(b *pgx.Batch, ni *store.NotificationInsert) (*store.Notification, error) {
	failover, err := jsonText(ni.Failover, "[]")
	if err != nil {
		return nil, fmt.Errorf("encode failover: %w", err)
	}
	lockedBy := ni.LockedBy
	if ni.LockedUntil.IsZero() {
		lockedBy = ""
	}
	n := &store.Notification{
		IdempotencyKey: ni.IdempotencyKey,
		AlertID:        ni.AlertID,
		Fingerprint:    ni.Fingerprint,
		Sequence:       ni.Sequence,
		Channel:        ni.Channel,
		Event:          ni.Event,
		Priority:       ni.Priority,
		Payload:        ni.Payload,
		Decoded:        ni.Decoded,
		GroupKey:       ni.GroupKey,
		Failover:       ni.Failover,
		State:          store.NotificationQueued,
		Attempts:       ni.Attempt,
		CreatedAt:      fromNanos(nanos(ni.CreatedAt)),
		NextAttemptAt:  fromNanos(nanos(ni.NextAttemptAt)),
		LockedUntil:    fromNanos(nanos(ni.LockedUntil)),
		LockedBy:       lockedBy,
		UpdatedAt:      fromNanos(nanos(ni.CreatedAt)),
	}
	b.Queue(notificationInsert+` RETURNING id`, ni.IdempotencyKey, ni.AlertID, string(ni.Fingerprint),
		ni.Sequence, ni.Channel, ni.Event, ni.Priority, ni.Payload, ni.GroupKey, failover,
		ni.Attempt, nanos(ni.CreatedAt), s.toDB(ni.NextAttemptAt), s.toDB(ni.LockedUntil), lockedBy,
		nanos(ni.CreatedAt)).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&n.ID); err != nil {
			return fmt.Errorf("write notification %s: %w", ni.IdempotencyKey, err)
		}
		return nil
	})
	return n, nil
}

func queueDelivery(b *pgx.Batch, d *store.Delivery) {
	b.Queue(deliveryInsert+` RETURNING id`, noNUL([]any{d.NotificationID, d.AlertID, string(d.Fingerprint), d.Channel,
		d.Event, d.Attempt, nanos(d.At), string(d.Outcome), d.Reason, d.StatusCode, int64(d.Latency),
		d.Error, d.Detail})...).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&d.ID); err != nil {
			return fmt.Errorf("write delivery: %w", err)
		}
		return nil
	})
}

// TransitionList returns the alert's transitions in sequence order.
func (s *Store) TransitionList(ctx context.Context, p *store.TransitionListParams) ([]alert.Transition, error) {
	rows, err := s.pool.Query(ctx, `SELECT alert_id, sequence, fingerprint, from_state, to_state,
		at, kind, "by", comment, value FROM transitions WHERE alert_id = $1 ORDER BY sequence`, p.AlertID)
	if err != nil {
		return nil, fmt.Errorf("list transitions: %w", err)
	}
	defer rows.Close()
	var out []alert.Transition
	for rows.Next() {
		var (
			t            alert.Transition
			fp, from, to string
			at           int64
		)
		if err := rows.Scan(&t.AlertID, &t.Sequence, &fp, &from, &to, &at, &t.Kind, &t.By,
			&t.Comment, &t.Value); err != nil {
			return nil, fmt.Errorf("list transitions: %w", err)
		}
		t.Fingerprint, t.From, t.To, t.At = alert.Fingerprint(fp), alert.State(from), alert.State(to), fromNanos(at)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list transitions: %w", err)
	}
	return out, nil
}

// anyUnleased reports whether a record is claimable by any replica: a wake-up
// for records leased to their writer would only send the others to find
// nothing.
func anyUnleased(ns []*store.Notification) bool {
	for _, n := range ns {
		if n.LockedUntil.IsZero() {
			return true
		}
	}
	return false
}
