package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	b := &pgx.Batch{}
	for _, d := range p.Deliveries {
		queueDelivery(b, d)
	}
	err := s.write(ctx, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	return nil
}

// DeliveryList returns log entries newest (latest At, then highest id)
// first. p.AlertID matches the alert id or the fingerprint; Limit 0 means
// 1000.
func (s *Store) DeliveryList(ctx context.Context, p *store.DeliveryListParams) ([]*store.Delivery, error) {
	// The same filter for both tables, each written so an index serves
	// it. Notifications have no fingerprint index (a random key in the
	// hottest table): the alert ids of the fingerprint come from alerts,
	// and one array lookup on notifications_alert takes them and the key.
	var (
		dWhere, nWhere []string
		a              args
	)
	if p.AlertID != "" {
		k := a.arg(p.AlertID)
		dWhere = append(dWhere, `(alert_id = `+k+` OR fingerprint = `+k+`)`)
		nWhere = append(nWhere, `alert_id = ANY(ARRAY(SELECT id FROM alerts WHERE fingerprint = `+k+`) || `+k+`::text)`)
	}
	if p.Channel != "" {
		k := a.arg(p.Channel)
		dWhere = append(dWhere, `channel = `+k)
		nWhere = append(nWhere, `channel = `+k)
	}
	limit := rowcodec.DeliveryListLimit(p.Limit)
	and := rowcodec.AndWhere
	// Successful attempts live in their notification rows (sent_at <> 0);
	// every other entry is a deliveries row.
	q := `SELECT id, notification_id, alert_id, fingerprint, channel, event, attempt::bigint AS attempt, at, outcome,
		reason, status_code::bigint, latency, error, detail FROM deliveries WHERE true` + and(dWhere) + `
		UNION ALL
		SELECT -id, id, alert_id, fingerprint, channel, event, sent_attempt::bigint, sent_at, 'sent',
		'', sent_status::bigint, sent_latency, '', sent_detail FROM notifications WHERE sent_at <> 0` + and(nWhere) + `
		ORDER BY 8 DESC, 1 DESC LIMIT ` + a.arg(limit)
	rows, err := s.pool.Query(ctx, q, a...)
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
