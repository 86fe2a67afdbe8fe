package postgres

import (
	"context"

	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"strings"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

// AlertGet returns the alert with id p.IDOrFingerprint; failing that the
// open alert with that fingerprint, else the latest one with it.
func (s *Store) AlertGet(ctx context.Context, p *store.AlertGetParams) (*alert.Alert, error) {
	k := p.IDOrFingerprint
	row := s.pool.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts
		WHERE id = $1 OR fingerprint = $1
		ORDER BY id = $1 DESC, state <> 'resolved' DESC, started_at DESC, id DESC LIMIT 1`, k)
	a, err := scanAlert(row)
	if errors.Is(err, pgx.ErrNoRows) {
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
		a     args
	)
	if len(p.States) > 0 {
		states := make([]string, len(p.States))
		for i, st := range p.States {
			states[i] = string(st)
		}
		where = append(where, `state = ANY(`+a.arg(states)+`)`)
	}
	if p.Severity != 0 {
		where = append(where, `severity = `+a.arg(int(p.Severity)))
	}
	if p.RuleID != "" {
		where = append(where, `rule_id = `+a.arg(p.RuleID))
	}
	if p.Fingerprint != "" {
		where = append(where, `fingerprint = `+a.arg(string(p.Fingerprint)))
	}
	q := `SELECT ` + alertColumns + ` FROM alerts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY started_at DESC, id DESC`
	if p.Limit > 0 {
		q += ` LIMIT ` + a.arg(p.Limit)
	}
	rows, err := s.pool.Query(ctx, q, a...)
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
	rows, err := s.pool.Query(ctx, `SELECT state, COUNT(*) FROM alerts GROUP BY state`)
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
	err := s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM alerts a
			WHERE state = 'resolved' AND resolved_at < $1
			AND id NOT IN (SELECT id FROM alerts WHERE state = 'resolved'
				ORDER BY resolved_at DESC, id DESC LIMIT $2)
			AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.alert_id = a.id AND n.state = 'queued')
			FOR UPDATE`,
			nanos(p.Before), max(p.Keep, 0))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(ids) == 0 {
			return err
		}
		b := &pgx.Batch{}
		for _, q := range []string{
			`DELETE FROM deliveries WHERE alert_id = ANY($1)`,
			`DELETE FROM notifications WHERE alert_id = ANY($1)`,
			`DELETE FROM threads WHERE alert_id = ANY($1)`,
			`DELETE FROM transitions WHERE alert_id = ANY($1)`,
		} {
			b.Queue(q, ids)
		}
		b.Queue(`DELETE FROM alerts WHERE id = ANY($1)`, ids).Exec(func(ct pgconn.CommandTag) error {
			n = int(ct.RowsAffected())
			return nil
		})
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("prune alerts: %w", err)
	}
	return n, nil
}
