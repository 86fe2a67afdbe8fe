package notify_test

import (
	"hash/fnv"
	"math"
	"runtime"
	"strconv"
	"strings"
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
// allocation of its own size (a 47-byte key fits a 48-byte block), at any
// sequence.
func TestIdempotencyKey_OneExactAllocation(t *testing.T) {
	fp := alert.NewFingerprint("rule", alert.Labels{"a": "b"})
	id := "01935d2e-8a0b-7c3d-9e4f-0123456789ab"
	for _, seq := range []int64{1, 12, 123, 100000} {
		var key string
		allocs := testing.AllocsPerRun(100, func() { key = notify.IdempotencyKey(id, fp, seq, "ops") })
		require.Equal(t, 1.0, allocs, "sequence %d", seq)
		require.Equal(t, len(fp)+1+8+1+len(strconv.FormatInt(seq, 10))+1+3, len(key))
	}
	// Bytes per key: the least of a few rounds, the one least disturbed by
	// anything else allocating meanwhile.
	const n = 1000
	keys := make([]string, n)
	least := ^uint64(0)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range keys {
			keys[i] = notify.IdempotencyKey(id, fp, 1, "ops")
		}
		runtime.ReadMemStats(&after)
		least = min(least, (after.TotalAlloc-before.TotalAlloc)/n)
	}
	require.Len(t, keys[0], 47)
	require.LessOrEqual(t, least, uint64(48), "a 47-byte key in a 48-byte block")
}

// referenceIdempotencyKey is the builder IdempotencyKey used before it
// sized its buffer: the keys must stay what they were, since receivers
// de-duplicate by them across upgrades.
func referenceIdempotencyKey(alertID string, fp alert.Fingerprint, sequence int64, channel string) string {
	var b strings.Builder
	b.WriteString(string(fp))
	b.WriteByte('-')
	h := fnv.New32a()
	_, _ = h.Write([]byte(alertID))
	var inc [9]byte
	b.Write(strconv.AppendUint(inc[:0], uint64(h.Sum32())|1<<32, 16)[1:])
	b.WriteByte('-')
	b.WriteString(strconv.FormatInt(sequence, 10))
	b.WriteByte('-')
	for _, r := range channel {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// The key is what it always was, on odd channels and sequences.
func TestIdempotencyKey_SameKeysAsBefore(t *testing.T) {
	reference := referenceIdempotencyKey
	fp := alert.NewFingerprint("rule", alert.Labels{"a": "b"})
	for _, ch := range []string{"ops", "", "pagerduty-prod_2", "équipe ops", "日本", "bad\xff\xfe", "a.b/c:d"} {
		for _, seq := range []int64{0, 1, 99, 100, -7, math.MaxInt64, math.MinInt64} {
			for _, id := range []string{"", "01935d2e-8a0b-7c3d-9e4f-0123456789ab"} {
				require.Equal(t, reference(id, fp, seq, ch), notify.IdempotencyKey(id, fp, seq, ch), "%q %d %q", ch, seq, id)
			}
		}
	}
}

// The key is what it always was, for any alert id, fingerprint text,
// sequence and channel, invalid UTF-8 included.
func FuzzIdempotencyKey_SameAsBefore(f *testing.F) {
	f.Add("01935d2e-8a0b-7c3d-9e4f-0123456789ab", "0123456789abcdef0123456789abcdef", int64(1), "ops")
	f.Add("", "", int64(math.MinInt64), "bad\xff\xfe")
	f.Add("x", "\xff\x00é", int64(math.MaxInt64), "日本 équipe\x80")
	f.Add("\xed\xa0\x80", "fp", int64(0), "\xf4\x90\x80\x80\xc0\xaf")
	f.Fuzz(func(t *testing.T, id, fp string, seq int64, ch string) {
		want := referenceIdempotencyKey(id, alert.Fingerprint(fp), seq, ch)
		if got := notify.IdempotencyKey(id, alert.Fingerprint(fp), seq, ch); got != want {
			t.Fatalf("IdempotencyKey(%q, %q, %d, %q) = %q, want %q", id, fp, seq, ch, got, want)
		}
	})
}
