package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/klaxonhq/klaxon/store/internal/rowcodec"
)

//go:embed migrations/*.sql
var migrations embed.FS

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]rowcodec.Migration, error) {
	return rowcodec.LoadMigrations(migrations, "migrations")
}

// migrate applies the migrations newer than the recorded schema version,
// each in its own transaction with its version row, so a crash mid-way
// leaves a consistent, resumable schema. It is a no-op on an up-to-date file.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if latest := ms[len(ms)-1].Version; current > latest {
		return fmt.Errorf("database schema version %d is newer than this klaxon's %d", current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("apply %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at)
			VALUES (?, ?, CAST(unixepoch('subsec') * 1e9 AS INTEGER))`, m.Version, m.Name); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("record %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit %s: %w", m.Name, err)
		}
	}
	return nil
}
