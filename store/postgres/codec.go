package postgres

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// nanos encodes a time as unix nanoseconds; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos decodes nanos: 0 is the zero time, anything else is UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// ptrNanos encodes an optional time: nil is NULL.
func ptrNanos(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: nanos(*t), Valid: true}
}

func fromPtrNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

// jsonText encodes v as JSON text, with empty for nil maps and slices.
func jsonText(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

// fromJSON decodes JSON text into dst; "", "null", "{}" and "[]" leave dst
// as it is (nil), so nil maps and slices round-trip as nil.
func fromJSON(s string, dst any) error {
	switch s {
	case "", "null", "{}", "[]":
		return nil
	}
	if err := json.Unmarshal([]byte(s), dst); err != nil {
		return fmt.Errorf("decode %.40q: %w", s, err)
	}
	return nil
}

// scanner is pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}
