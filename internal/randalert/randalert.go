// Package randalert builds random alerts full of JSON edge cases (HTML and
// control characters, invalid UTF-8, extreme floats, odd zones, nil versus
// empty maps) for the tests that check klaxon's hand-written JSON encoders
// against encoding/json.
package randalert

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// strs are strings encoding/json treats specially, plus ordinary ones.
var strs = []string{
	"", "a", "checkout", "High error rate", `say "hi" \ back`, "<b>&amp;</b>",
	"line\nbreak\r\ttab\b\f", "\x00\x01\x1f\x7f", "\u2028\u2029", "é ü 日本 😀",
	"\ufffd", "\xff", "\xfe\xff abc", "\xed\xa0\x80", "\xe2\x82", "a\xe2\x82\xacb",
	"https://example.com/?a=1&b=<2>", "\u007f\u0080\u00a0", "\\u003c",
}

// floats are values on and around encoding/json's notation cutoffs.
var floats = []float64{
	0, math.Copysign(0, -1), 1, -1.5, 0.1, 0.125, 1e-7, -1e-7, 1e-6, 9.999999e-7,
	1e20, 1e21, -1e21, 999999999999999999999.0, 123456789.123, 1e100, 1.5e-300,
	5e-324, 2.2250738585072014e-308, math.MaxFloat64, -math.MaxFloat64, 12.5e-10,
}

// zones cover UTC, whole and fractional hours, and seconds offsets
// (which RFC 3339 output truncates to minutes).
var zones = []*time.Location{
	time.UTC, time.FixedZone("CEST", 2*3600), time.FixedZone("IST", 5*3600+30*60),
	time.FixedZone("NST", -(3*3600 + 30*60)), time.FixedZone("LMT", 3600+45), time.FixedZone("Z0", 0),
	time.FixedZone("M", -23*3600-59*60),
}

// String returns a random string: a special one, random bytes, or a mix.
func String(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0, 1:
		return strs[r.IntN(len(strs))]
	case 2:
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	var sb strings.Builder
	for range r.IntN(4) + 1 {
		sb.WriteString(strs[r.IntN(len(strs))])
	}
	return sb.String()
}

// Float returns a finite float: a cutoff value, a random magnitude, or
// random bits.
func Float(r *rand.Rand) float64 {
	switch r.IntN(3) {
	case 0:
		return floats[r.IntN(len(floats))]
	case 1:
		return (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(60)-30))
	}
	for {
		if f := math.Float64frombits(r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

// Time returns a time in [0001, 9999] in a random zone, sometimes zero,
// sometimes whole seconds, sometimes with a monotonic reading.
func Time(r *rand.Rand) time.Time {
	switch r.IntN(8) {
	case 0:
		return time.Time{}
	case 1:
		return time.Now()
	}
	lo := time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC).Unix()
	ns := int64(0)
	if r.IntN(2) == 0 {
		ns = r.Int64N(1e9)
	}
	return time.Unix(lo+r.Int64N(hi-lo), ns).In(zones[r.IntN(len(zones))])
}

// Map returns nil, an empty map, or up to 20 random pairs (past the
// encoder's small-buffer size).
func Map(r *rand.Rand) map[string]string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	m := map[string]string{}
	for range r.IntN(20) + 1 {
		m[String(r)] = String(r)
	}
	return m
}

func ptr[T any](r *rand.Rand, v T) *T {
	if r.IntN(2) == 0 {
		return nil
	}
	return &v
}

// opt returns v or the zero value, so omitempty fields are seen both ways.
func opt[T any](r *rand.Rand, v T) T {
	if r.IntN(2) == 0 {
		var zero T
		return zero
	}
	return v
}

// Alert returns a random, encodable alert: a valid severity, finite
// numbers and RFC 3339 times.
func Alert(r *rand.Rand) *alert.Alert {
	var channels []string
	switch r.IntN(3) {
	case 1:
		channels = []string{}
	case 2:
		for range r.IntN(4) + 1 {
			channels = append(channels, String(r))
		}
	}
	ints := []int64{0, 1, -1, 42, math.MaxInt64, math.MinInt64, r.Int64()}
	return &alert.Alert{
		ID:              String(r),
		Fingerprint:     alert.Fingerprint(String(r)),
		RuleID:          String(r),
		RuleName:        opt(r, String(r)),
		State:           alert.State(String(r)),
		Severity:        alert.Severities[r.IntN(len(alert.Severities))],
		Summary:         String(r),
		Description:     String(r),
		Labels:          alert.Labels(Map(r)),
		Annotations:     Map(r),
		Value:           Float(r),
		Threshold:       ptr(r, Float(r)),
		Source:          opt(r, String(r)),
		Metadata:        Map(r),
		StartedAt:       Time(r),
		UpdatedAt:       Time(r),
		ActiveAt:        ptr(r, Time(r)),
		AcknowledgedAt:  ptr(r, Time(r)),
		AcknowledgedBy:  opt(r, String(r)),
		AckComment:      opt(r, String(r)),
		ResolvedAt:      ptr(r, Time(r)),
		EndsAt:          ptr(r, Time(r)),
		SilencedBy:      opt(r, String(r)),
		LastNotifiedAt:  ptr(r, Time(r)),
		Channels:        channels,
		EscalationLevel: opt(r, int(ints[r.IntN(len(ints))])),
		Sequence:        ints[r.IntN(len(ints))],
	}
}

// Break makes one part of a random alert unencodable (what json.Marshal
// refuses): a NaN or infinite number, an invalid severity, or a time
// outside RFC 3339's range.
func Break(r *rand.Rand, a *alert.Alert) {
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	switch r.IntN(6) {
	case 0:
		a.Value = bad[r.IntN(len(bad))]
	case 1:
		a.Threshold = &bad[r.IntN(len(bad))]
	case 2:
		a.Severity = alert.Severity(r.IntN(3) * 6) // 0, 6 or 12
	case 3:
		a.StartedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	case 4:
		t := time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC)
		a.ResolvedAt = &t
	case 5:
		t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 24*3600))
		a.UpdatedAt = t
	}
}
