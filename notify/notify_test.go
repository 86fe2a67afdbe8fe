package notify_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{" 1.5 ", 1500 * time.Millisecond, true},
		{"0", 0, true},
		{"7200", time.Hour, true},
		// Past time.Duration's range: still capped, not wrapped negative.
		{"1e300", time.Hour, true},
		{"Tue, 24 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Tue, 24 Nov 2026 11:00:00 GMT", 0, true},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := notify.ParseRetryAfter(tc.in, now)
		require.Equal(t, tc.ok, ok, "%q", tc.in)
		require.Equal(t, tc.want, got, "%q", tc.in)
	}
}

// Two firings of one series are two alerts whose sequences both start at
// 1: their keys differ, so a receiver that de-duplicates keeps both. A
// retry of one transition keeps its key.
func TestIdempotencyKey_IncarnationsDiffer(t *testing.T) {
	t.Parallel()
	fp := alert.NewFingerprint("rule", alert.Labels{"host": "a"})
	first := notify.IdempotencyKey("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", fp, 1, "ops")
	again := notify.IdempotencyKey("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", fp, 1, "ops")
	second := notify.IdempotencyKey("0193a1b9-0000-7e5f-8a9b-0c1d2e3f4a5c", fp, 1, "ops")
	require.Equal(t, first, again)
	require.NotEqual(t, first, second)
	require.Regexp(t, `^`+string(fp)+`-[0-9a-f]{8}-1-ops$`, first)
	require.Regexp(t, `^[0-9a-z_-]+$`, notify.IdempotencyKey("x", fp, 2, "team pager.1"))
}

// A key is held with every notification on its way: it is built in one
// allocation of about its own size.
func TestIdempotencyKey_OneExactAllocation(t *testing.T) {
	fp := alert.NewFingerprint("rule", alert.Labels{"a": "b"})
	var key string
	allocs := testing.AllocsPerRun(100, func() {
		key = notify.IdempotencyKey("01935d2e-8a0b-7c3d-9e4f-0123456789ab", fp, 12, "ops")
	})
	require.Equal(t, 1.0, allocs)
	require.LessOrEqual(t, len(key), 48)
}
