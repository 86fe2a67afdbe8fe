package sqlite

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

const transitionInsert = `INSERT INTO transitions
	(alert_id, sequence, fingerprint, from_state, to_state, at, kind, by, comment, value)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const notificationInsert = `INSERT INTO notifications (idempotency_key, alert_id, fingerprint,
	sequence, channel, event, priority, payload, group_key, failover, state, attempts, created_at,
	next_attempt_at, locked_until, locked_by, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`

const deliveryInsert = `INSERT INTO deliveries (notification_id, alert_id, fingerprint, channel,
	event, attempt, at, outcome, reason, status_code, latency, error, detail)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Apply writes the changes, their transitions, notifications and decision
// log entries in one transaction: all or nothing. A change that breaks a
// constraint (a second open alert for a fingerprint, a repeated transition
// sequence) rolls back the whole batch.
func (s *Store) Apply(ctx context.Context, p *store.ApplyParams) ([]*store.Notification, error) {
	var out []*store.Notification
	err := s.writeStmts(ctx, true, func(st *txStmts) error {
		out = out[:0]
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.Alert == nil {
				return fmt.Errorf("change %d: no alert", i)
			}
			args, err := alertArgs(c.Alert)
			if err != nil {
				return fmt.Errorf("alert %s: %w", c.Alert.ID, err)
			}
			if _, err := st.exec(alertUpsert, args...); err != nil {
				return fmt.Errorf("write alert %s: %w", c.Alert.ID, err)
			}
			if t := c.Transition; t != nil {
				if err := insertTransition(st, c.Alert, t); err != nil {
					return err
				}
			}
			for _, ni := range c.Notifications {
				n, err := insertNotification(st, ni)
				if err != nil {
					return err
				}
				out = append(out, n)
			}
			for _, d := range c.Deliveries {
				if err := insertDelivery(st, d); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	return out, nil
}

func insertTransition(st *txStmts, a *alert.Alert, t *alert.Transition) error {
	id, fp := t.AlertID, t.Fingerprint
	if id == "" {
		id = a.ID
	}
	if fp == "" {
		fp = a.Fingerprint
	}
	_, err := st.exec(transitionInsert, id, t.Sequence, string(fp), string(t.From), string(t.To),
		nanos(t.At), t.Kind, t.By, t.Comment, t.Value)
	if err != nil {
		return fmt.Errorf("write transition %s/%d: %w", id, t.Sequence, err)
	}
	return nil
}

// insertNotification inserts a queued record and returns it as stored.
func insertNotification(st *txStmts, ni *store.NotificationInsert) (*store.Notification, error) {
	failover, err := jsonText(ni.Failover, "[]")
	if err != nil {
		return nil, fmt.Errorf("encode failover: %w", err)
	}
	lockedBy := ni.LockedBy
	if ni.LockedUntil.IsZero() {
		lockedBy = ""
	}
	res, err := st.exec(notificationInsert, ni.IdempotencyKey, ni.AlertID, string(ni.Fingerprint),
		ni.Sequence, ni.Channel, ni.Event, ni.Priority, ni.Payload, ni.GroupKey, failover,
		ni.Attempt, nanos(ni.CreatedAt), nanos(ni.NextAttemptAt), nanos(ni.LockedUntil), lockedBy,
		nanos(ni.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("write notification %s: %w", ni.IdempotencyKey, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("write notification %s: %w", ni.IdempotencyKey, err)
	}
	return &store.Notification{
		ID:             id,
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
	}, nil
}

func insertDelivery(st *txStmts, d *store.Delivery) error {
	res, err := st.exec(deliveryInsert, d.NotificationID, d.AlertID, string(d.Fingerprint), d.Channel,
		d.Event, d.Attempt, nanos(d.At), string(d.Outcome), d.Reason, d.StatusCode, int64(d.Latency),
		d.Error, d.Detail)
	if err != nil {
		return fmt.Errorf("write delivery: %w", err)
	}
	if id, err := res.LastInsertId(); err == nil {
		d.ID = id
	}
	return nil
}

// TransitionList returns the alert's transitions in sequence order.
func (s *Store) TransitionList(ctx context.Context, p *store.TransitionListParams) ([]alert.Transition, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT alert_id, sequence, fingerprint, from_state, to_state,
		at, kind, by, comment, value FROM transitions WHERE alert_id = ? ORDER BY sequence`, p.AlertID)
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
