package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// NotificationReleaseLeases makes every queued record leased by an owner
// other than exceptOwner claimable at once, and returns how many it
// released. One process owns a SQLite file, so at start every other lease
// belongs to a process that is gone (killed, crashed): waiting for those
// leases to expire would only delay what it left in flight. The dispatcher
// calls it through an optional interface; store/postgres has no such method
// because there other replicas' leases are live.
func (s *Store) NotificationReleaseLeases(ctx context.Context, exceptOwner string) (int, error) {
	var n int64
	err := s.writeRelaxed(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notifications SET locked_until = 0, locked_by = ''
			WHERE state = 'queued' AND locked_by != '' AND locked_by != ?`, exceptOwner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	return int(n), nil
}
