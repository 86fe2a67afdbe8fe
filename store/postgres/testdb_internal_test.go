package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The test database helpers live here, in the package, so its internal
// tests and its external ones (postgres_test) share them.

// DatabaseURLForTest returns the test database URL or skips.
func DatabaseURLForTest(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("KLAXON_TEST_DATABASE_URL")
	if url == "" {
		tb.Skip("KLAXON_TEST_DATABASE_URL not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run these tests")
	}
	return url
}

// FreshSchema returns a fresh schema name, dropped with everything in it
// when the test ends.
func FreshSchema(tb testing.TB, url string) string {
	tb.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "klaxon_test_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		require.NoError(tb, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
		require.NoError(tb, err)
	})
	return schema
}
