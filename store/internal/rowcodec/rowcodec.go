// Package rowcodec holds the column encodings both SQL backends share, so
// a row written by one reads back the same from the other's schema: times
// as unix nanoseconds (exact, UTC), optional times as NULL, maps and slices
// as JSON text.
package rowcodec

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Nanos encodes a time as unix nanoseconds; the zero time is 0.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos decodes Nanos: 0 is the zero time, anything else is UTC.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// PtrNanos encodes an optional time: nil is NULL.
func PtrNanos(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: Nanos(*t), Valid: true}
}

// FromPtrNanos decodes PtrNanos.
func FromPtrNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := FromNanos(n.Int64)
	return &t
}

// JSONText encodes v as JSON text, with empty for nil maps and slices.
func JSONText(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

// FromJSON decodes JSON text into dst; "", "null", "{}" and "[]" leave dst
// as it is (nil), so nil maps and slices round-trip as nil.
func FromJSON(s string, dst any) error {
	switch s {
	case "", "null", "{}", "[]":
		return nil
	}
	if err := json.Unmarshal([]byte(s), dst); err != nil {
		return fmt.Errorf("decode %.40q: %w", s, err)
	}
	return nil
}
