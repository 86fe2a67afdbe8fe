// Package rowcodec holds what both SQL backends share: the column
// encodings (times as unix nanoseconds, exact and UTC; optional times as
// NULL; maps and slices as JSON text), migration loading, and the rules that
// map a send's outcome onto rows.
package rowcodec

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/internal/jsonenc"
	"github.com/klaxonhq/klaxon/store"
)

// Times that unix nanoseconds can hold (1678 to 2262).
var (
	maxNanosTime = time.Unix(0, math.MaxInt64)
	minNanosTime = time.Unix(0, math.MinInt64+1)
)

// Nanos encodes a time as unix nanoseconds; the zero time is 0. A time
// past what int64 nanoseconds hold is clamped to the nearest end (a
// "forever" silence ending in 9999 ends in 2262) instead of wrapping.
func Nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(maxNanosTime):
		return math.MaxInt64
	case t.Before(minNanosTime):
		return math.MinInt64 + 1
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
	// Empty ones, the common case of most columns, skip the encoder; the
	// others, written with every alert, skip encoding/json's reflection.
	switch x := v.(type) {
	case map[string]string:
		if len(x) == 0 {
			return empty, nil
		}
		return string(jsonenc.AppendStringMap(nil, x)), nil
	case alert.Labels:
		if len(x) == 0 {
			return empty, nil
		}
		return string(jsonenc.AppendStringMap(nil, x)), nil
	case []string:
		if len(x) == 0 {
			return empty, nil
		}
		return string(jsonenc.AppendStrings(nil, x)), nil
	}
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

// Migration is one numbered schema step, from a file named NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads dir's NNNN_name.sql files from fsys, ordered by
// version; a name without a positive number, or two files with one version,
// is an error.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", e.Name())
		}
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share a version", out[i-1].Name, out[i].Name)
		}
	}
	return out, nil
}

// FillDelivery completes a delivery log entry from the notification record
// it is about; fields already set are kept.
func FillDelivery(d *store.Delivery, id int64, alertID, fp, channel, event string) {
	if d.NotificationID == 0 {
		d.NotificationID = id
	}
	if d.AlertID == "" {
		d.AlertID = alertID
	}
	if d.Fingerprint == "" {
		d.Fingerprint = alert.Fingerprint(fp)
	}
	if d.Channel == "" {
		d.Channel = channel
	}
	if d.Event == "" {
		d.Event = event
	}
}

// InlineSent reports whether a result's log entry can live in its
// notification row (the sent_* columns) instead of a deliveries row: a plain
// success of that very record.
func InlineSent(r *store.NotificationResult) bool {
	d := r.Delivery
	return d != nil && r.State == store.NotificationSent && d.Outcome == store.OutcomeSent &&
		d.Reason == "" && d.Error == "" && (d.NotificationID == 0 || d.NotificationID == r.ID)
}

// SameRecord reports whether a filled entry describes the row it would be
// stored in.
func SameRecord(d *store.Delivery, alertID, fp, channel, event string) bool {
	return d.AlertID == alertID && string(d.Fingerprint) == fp && d.Channel == channel && d.Event == event
}

// DeliveryListLimit is the delivery log's page size: n, or 1000 when n is
// not positive.
func DeliveryListLimit(n int) int {
	if n <= 0 {
		return 1000
	}
	return n
}

// AndWhere joins conditions for appending to a WHERE clause that already
// has one: "" for none, else " AND a AND b".
func AndWhere(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return ` AND ` + strings.Join(where, ` AND `)
}
