package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klaxonhq/klaxon/store/internal/rowcodec"
)

//go:embed migrations/*.sql
var migrations embed.FS

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]rowcodec.Migration, error) {
	return rowcodec.LoadMigrations(migrations, "migrations")
}

// migrateLock is the advisory lock key that serialises migrations of
// replicas starting together ("klaxon" in ASCII).
const migrateLock = 0x6b6c61786f6e

// migrate applies the migrations newer than the recorded version in one
// transaction under an advisory lock. It is a no-op when up to date.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if latest := ms[len(ms)-1].Version; current > latest {
		return fmt.Errorf("database schema version %d is newer than this klaxon's %d", current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		// Simple protocol: a migration file holds several statements.
		if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("apply %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("record %s: %w", m.Name, err)
		}
	}
	return tx.Commit(ctx)
}
