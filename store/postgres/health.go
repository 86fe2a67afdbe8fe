package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/store"
)

var _ store.HealthBoard = (*Store)(nil)

// reportsKept is how long a replica's reports outlive its last one: rows of
// replicas that went away are deleted by the next report of any replica.
const reportsKept = "1 day"

// ReportChannels implements store.HealthBoard: one transaction replaces
// replica's rows, stamped with the database's now().
func (s *Store) ReportChannels(ctx context.Context, replica string, reports []store.ChannelReport) error {
	channels := make([]string, len(reports))
	types := make([]string, len(reports))
	healthy := make([]bool, len(reports))
	circuits := make([]string, len(reports))
	errs := make([]string, len(reports))
	for i, r := range reports {
		channels[i], types[i], healthy[i], circuits[i], errs[i] = r.Channel, r.Type, r.Healthy, r.Circuit, r.LastError
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Day-old rows are deleted by whichever replica gets to them
		// first; SKIP LOCKED keeps two replicas from waiting on (or
		// deadlocking over) the same rows.
		if _, err := tx.Exec(ctx, `DELETE FROM channel_health WHERE replica = $1 OR (replica, channel) IN (
			SELECT replica, channel FROM channel_health WHERE reported_at < now() - interval '`+reportsKept+`'
			FOR UPDATE SKIP LOCKED)`, replica); err != nil {
			return err
		}
		if len(reports) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO channel_health (replica, channel, type, healthy, circuit, last_error, reported_at)
			SELECT $1, c, t, h, ci, e, now()
			FROM unnest($2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[]) AS r (c, t, h, ci, e)
			ON CONFLICT (replica, channel) DO UPDATE SET type = excluded.type, healthy = excluded.healthy,
				circuit = excluded.circuit, last_error = excluded.last_error, reported_at = excluded.reported_at`,
			replica, channels, types, healthy, circuits, errs)
		return err
	})
	if err != nil {
		return fmt.Errorf("report channel health: %w", err)
	}
	return nil
}

// ChannelReports implements store.HealthBoard; ages are measured by the
// database's clock.
func (s *Store) ChannelReports(ctx context.Context, within time.Duration) ([]store.ChannelReport, error) {
	rows, err := s.pool.Query(ctx, `SELECT replica, channel, type, healthy, circuit, last_error,
			(EXTRACT(EPOCH FROM now() - reported_at) * 1000000)::bigint
		FROM channel_health
		WHERE reported_at > now() - make_interval(secs => $1::double precision)
		ORDER BY channel, replica`, within.Seconds())
	if err != nil {
		return nil, fmt.Errorf("read channel health: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ChannelReport, error) {
		var r store.ChannelReport
		var micros int64
		err := row.Scan(&r.Replica, &r.Channel, &r.Type, &r.Healthy, &r.Circuit, &r.LastError, &micros)
		r.Age = time.Duration(micros) * time.Microsecond
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("read channel health: %w", err)
	}
	return out, nil
}
