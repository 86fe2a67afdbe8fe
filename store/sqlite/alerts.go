package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// AlertGet returns the alert with id p.IDOrFingerprint; failing that the
// open alert with that fingerprint, else the latest one with it.
func (s *Store) AlertGet(ctx context.Context, p *store.AlertGetParams) (*alert.Alert, error) {
	k := p.IDOrFingerprint
	// Three indexed lookups: the id, the open alert's fingerprint and the
	// resolved ones' (each in a partial index of its own).
	row := s.r.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM (
		SELECT *, 0 AS pick FROM alerts WHERE id = ?1
		UNION ALL SELECT *, 1 FROM alerts WHERE fingerprint = ?1 AND state <> 'resolved'
		UNION ALL SELECT *, 2 FROM alerts WHERE fingerprint = ?1 AND state = 'resolved')
		ORDER BY pick, started_at DESC, id DESC LIMIT 1`, k)
	a, err := scanAlert(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("alert %q: %w", k, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get alert: %w", err)
	}
	return a, nil
}

// AlertList returns alerts filtered by p, newest (latest start) first.
func (s *Store) AlertList(ctx context.Context, p *store.AlertListParams) ([]*alert.Alert, error) {
	var (
		where []string
		args  []any
	)
	if len(p.States) > 0 {
		where = append(where, `state IN (`+placeholders(len(p.States))+`)`)
		for _, st := range p.States {
			args = append(args, string(st))
		}
	}
	if p.Severity != 0 {
		where = append(where, `severity = ?`)
		args = append(args, int(p.Severity))
	}
	if p.RuleID != "" {
		where = append(where, `rule_id = ?`)
		args = append(args, p.RuleID)
	}
	if p.Fingerprint != "" {
		where = append(where, `fingerprint = ?`)
		args = append(args, string(p.Fingerprint))
	}
	q := `SELECT ` + alertColumns + ` FROM alerts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY started_at DESC, id DESC`
	if p.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, p.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []*alert.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// AlertCount counts alerts per state; every state is present, 0 when none.
func (s *Store) AlertCount(ctx context.Context) (map[alert.State]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM alerts GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count alerts: %w", err)
	}
	defer rows.Close()
	out := make(map[alert.State]int, len(alert.States))
	for _, st := range alert.States {
		out[st] = 0
	}
	for rows.Next() {
		var (
			st string
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count alerts: %w", err)
		}
		out[alert.State(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count alerts: %w", err)
	}
	return out, nil
}

// AlertPrune deletes resolved alerts resolved before p.Before, except the
// newest p.Keep resolved ones and any that still have queued notifications
// (their resolution may not be sent yet), with their transitions, delivery
// log, thread handles and finished notifications.
func (s *Store) AlertPrune(ctx context.Context, p *store.AlertPruneParams) (int, error) {
	var n int
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM alerts a
			WHERE state = 'resolved' AND resolved_at < ?
			AND id NOT IN (SELECT id FROM alerts WHERE state = 'resolved'
				ORDER BY resolved_at DESC, id DESC LIMIT ?)
			AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.alert_id = a.id AND n.state = 'queued')`,
			nanos(p.Before), max(p.Keep, 0))
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		const chunk = 500
		for len(ids) > 0 {
			batch := ids[:min(chunk, len(ids))]
			ids = ids[len(batch):]
			args := make([]any, len(batch))
			for i, id := range batch {
				args[i] = id
			}
			in := `(` + placeholders(len(batch)) + `)`
			for _, q := range []string{
				`DELETE FROM deliveries WHERE alert_id IN ` + in,
				`DELETE FROM notifications WHERE alert_id IN ` + in,
				`DELETE FROM threads WHERE alert_id IN ` + in,
				`DELETE FROM transitions WHERE alert_id IN ` + in,
			} {
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return err
				}
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE id IN `+in, args...)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune alerts: %w", err)
	}
	return n, nil
}
