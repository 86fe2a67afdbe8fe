package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/store/internal/rowcodec"
)

// DeliveryInsert appends entries to the delivery log in one transaction and
// sets their IDs.
func (s *Store) DeliveryInsert(ctx context.Context, p *store.DeliveryInsertParams) error {
	if len(p.Deliveries) == 0 {
		return nil
	}
	err := s.writeStmts(ctx, false, func(st *txStmts) error {
		for _, d := range p.Deliveries {
			if err := insertDelivery(st, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	return nil
}

// DeliveryList returns log entries newest (latest At, then highest id)
// first. p.AlertID matches the alert id or the fingerprint; Limit 0 means
// 1000.
func (s *Store) DeliveryList(ctx context.Context, p *store.DeliveryListParams) ([]*store.Delivery, error) {
	q, args := deliveryListQuery(p)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*store.Delivery
	for rows.Next() {
		var (
			d           store.Delivery
			fp, outcome string
			at, latency int64
		)
		if err := rows.Scan(&d.ID, &d.NotificationID, &d.AlertID, &fp, &d.Channel, &d.Event,
			&d.Attempt, &at, &outcome, &d.Reason, &d.StatusCode, &latency, &d.Error, &d.Detail); err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		d.Fingerprint, d.Outcome = alert.Fingerprint(fp), store.Outcome(outcome)
		d.At, d.Latency = fromNanos(at), time.Duration(latency)
		out = append(out, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// deliveryListQuery builds DeliveryList's statement and arguments.
func deliveryListQuery(p *store.DeliveryListParams) (string, []any) {
	// The same filter for both tables, each written so an index serves
	// it. Notifications have no fingerprint index (a random key in the
	// hottest table), so the alert's fingerprint is looked up in alerts,
	// through the two partial fingerprint indexes.
	var (
		dWhere, nWhere []string
		dArgs, nArgs   []any
	)
	if p.AlertID != "" {
		dWhere = append(dWhere, `(alert_id = ? OR fingerprint = ?)`)
		dArgs = append(dArgs, p.AlertID, p.AlertID)
		nWhere = append(nWhere, `(alert_id = ? OR alert_id IN (
			SELECT id FROM alerts WHERE fingerprint = ? AND state <> 'resolved'
			UNION ALL SELECT id FROM alerts WHERE fingerprint = ? AND state = 'resolved'))`)
		nArgs = append(nArgs, p.AlertID, p.AlertID, p.AlertID)
	}
	if p.Channel != "" {
		dWhere = append(dWhere, `channel = ?`)
		dArgs = append(dArgs, p.Channel)
		nWhere = append(nWhere, `channel = ?`)
		nArgs = append(nArgs, p.Channel)
	}
	limit := rowcodec.DeliveryListLimit(p.Limit)
	and := rowcodec.AndWhere
	// Successful attempts live in their notification rows (sent_at <> 0);
	// every other entry is a deliveries row.
	q := `SELECT id, notification_id, alert_id, fingerprint, channel, event, attempt, at, outcome,
		reason, status_code, latency, error, detail FROM deliveries WHERE 1 = 1` + and(dWhere) + `
		UNION ALL
		SELECT -id, id, alert_id, fingerprint, channel, event, sent_attempt, sent_at, 'sent',
		'', sent_status, sent_latency, '', sent_detail FROM notifications WHERE sent_at <> 0` + and(nWhere) + `
		ORDER BY 8 DESC, 1 DESC LIMIT ?`
	args := append(append(dArgs, nArgs...), limit)
	return q, args
}
