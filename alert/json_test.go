package alert_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/internal/randalert"
)

// requireSameJSON checks AppendJSON against encoding/json: the same bytes,
// or both failing with the same message.
func requireSameJSON(t *testing.T, a *alert.Alert) {
	t.Helper()
	want, wantErr := json.Marshal(a)
	prefix := []byte("prefix:")
	got, err := a.AppendJSON(prefix)
	if wantErr != nil {
		require.Error(t, err, "json.Marshal fails with %v", wantErr)
		require.Equal(t, wantErr.Error(), err.Error())
		require.Equal(t, "prefix:", string(got), "a failure leaves dst as it was")
		return
	}
	require.NoError(t, err)
	require.Equal(t, "prefix:", string(got[:len(prefix)]), "AppendJSON appends")
	require.Equal(t, string(want), string(got[len(prefix):]))
}

func TestAlertAppendJSON_MatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		a := randalert.Alert(r)
		_, err := json.Marshal(a)
		require.NoError(t, err, "randalert.Alert builds encodable alerts")
		requireSameJSON(t, a)
	}
	for range 500 {
		a := randalert.Alert(r)
		randalert.Break(r, a)
		_, err := json.Marshal(a)
		require.Error(t, err, "randalert.Break makes an alert unencodable")
		requireSameJSON(t, a)
	}
}

func TestAlertAppendJSON_EdgeCases(t *testing.T) {
	t.Parallel()
	zero := time.Time{}
	nanos := time.Date(2026, 3, 4, 5, 6, 7, 120, time.FixedZone("x", -7*3600))
	th := 5e-324
	cases := map[string]*alert.Alert{
		"zero value":       {Severity: alert.Info},
		"nil vs empty":     {Severity: alert.Low, Labels: alert.Labels{}, Metadata: map[string]string{}, Channels: []string{}},
		"pointers to zero": {Severity: alert.High, ActiveAt: &zero, AcknowledgedAt: &zero, ResolvedAt: &nanos, EndsAt: &nanos, LastNotifiedAt: &zero, Threshold: &th},
		"escapes": {
			Severity: alert.Critical, ID: "<&>\u2028\u2029\x00\x1f\x7f\"\\\xff\xc3", Summary: "\b\f\n\r\t",
			Labels: alert.Labels{"<k>": "&", "b": "\xed\xa0\x80", "a": "ok", "\xff": "x", "é": "ü"},
		},
		"numbers":        {Severity: alert.Medium, Value: math.Copysign(0, -1), EscalationLevel: -3, Sequence: math.MinInt64},
		"big float":      {Severity: alert.Medium, Value: 1e21},
		"small float":    {Severity: alert.Medium, Value: 1e-7},
		"plain float":    {Severity: alert.Medium, Value: 123456789.123},
		"bad severity":   {Severity: 0},
		"NaN":            {Severity: alert.Info, Value: math.NaN()},
		"-Inf threshold": {Severity: alert.Info, Threshold: func() *float64 { f := math.Inf(-1); return &f }()},
		"year 10000":     {Severity: alert.Info, UpdatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"zone 24h":       {Severity: alert.Info, StartedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))},
		"zone -99h":      {Severity: alert.Info, StartedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", -99*3600))},
		"zone 100h":      {Severity: alert.Info, StartedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("", 100*3600))},
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) { requireSameJSON(t, a) })
	}
	got, err := (*alert.Alert)(nil).AppendJSON(nil)
	require.NoError(t, err)
	require.Equal(t, "null", string(got))
}

// TestAlertJSONFields pins Alert's JSON fields: AppendJSON writes them by
// hand, so a new or renamed field must be added there too (and here).
func TestAlertJSONFields(t *testing.T) {
	t.Parallel()
	var tags []string
	typ := reflect.TypeFor[alert.Alert]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		tags = append(tags, f.Name+" "+f.Type.String()+" "+f.Tag.Get("json"))
	}
	require.Equal(t, []string{
		"ID string id", "Fingerprint alert.Fingerprint fingerprint", "RuleID string rule_id",
		"RuleName string rule_name,omitempty", "State alert.State state", "Severity alert.Severity severity",
		"Summary string summary", "Description string description", "Labels alert.Labels labels",
		"Annotations map[string]string annotations", "Value float64 value", "Threshold *float64 threshold",
		"Source string source,omitempty", "Metadata map[string]string metadata,omitempty",
		"StartedAt time.Time started_at", "UpdatedAt time.Time updated_at",
		"ActiveAt *time.Time active_at,omitempty", "AcknowledgedAt *time.Time acknowledged_at",
		"AcknowledgedBy string acknowledged_by", "AckComment string ack_comment,omitempty",
		"ResolvedAt *time.Time resolved_at", "EndsAt *time.Time ends_at,omitempty",
		"SilencedBy string silenced_by,omitempty", "LastNotifiedAt *time.Time last_notified_at,omitempty",
		"Channels []string channels,omitempty", "EscalationLevel int escalation_level,omitempty",
		"Sequence int64 sequence",
	}, tags)
	for _, typ := range []reflect.Type{reflect.TypeFor[alert.Fingerprint](), reflect.TypeFor[alert.State](), reflect.TypeFor[alert.Labels]()} {
		for _, m := range []string{"MarshalJSON", "MarshalText"} {
			_, ok := typ.MethodByName(m)
			require.False(t, ok, "%s has %s: AppendJSON must call it", typ, m)
		}
	}
	_, ok := reflect.TypeFor[*alert.Alert]().MethodByName("MarshalJSON")
	require.False(t, ok, "a MarshalJSON on Alert would be promoted into notify.AlertEvent")
}

// FuzzAlertAppendJSON builds alerts from fuzzed text, numbers and times and
// requires AppendJSON to equal json.Marshal, or both to fail alike.
func FuzzAlertAppendJSON(f *testing.F) {
	f.Add("01J", "svc", "<checkout>", "Error & rate\u2028", 0.125, 0.05, 5, int64(1767225600), int64(123), 3600, int64(2))
	f.Add("", "", "", "\xff\x00", 1e21, 1e-7, 0, int64(-62135596800), int64(0), 0, int64(0))
	f.Add("x", "\u2029", "\\\"", "\t", math.Copysign(0, -1), math.NaN(), 6, int64(253402300800), int64(999999999), -86400, int64(-1))
	f.Fuzz(func(t *testing.T, id, key, val, text string, value, threshold float64, sev int, sec, nsec int64, offset int, seq int64) {
		at := time.Unix(sec, nsec).In(time.FixedZone("f", offset))
		a := &alert.Alert{
			ID: id, Fingerprint: alert.Fingerprint(key), RuleID: val, RuleName: text,
			State: alert.State(text), Severity: alert.Severity(sev), Summary: text, Description: id + text,
			Labels: alert.Labels{key: val, val: key}, Annotations: map[string]string{text: id},
			Value: value, Threshold: &threshold, Source: key, Metadata: map[string]string{val: text},
			StartedAt: at, UpdatedAt: at.UTC(), ActiveAt: &at, AcknowledgedBy: val, AckComment: text,
			SilencedBy: id, Channels: []string{key, val}, EscalationLevel: int(seq), Sequence: seq,
		}
		if sev%2 == 0 {
			a.Severity = alert.Severities[uint(sev)%uint(len(alert.Severities))]
		}
		requireSameJSON(t, a)
	})
}

func benchAlert() *alert.Alert {
	th := 0.05
	now := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)
	a := &alert.Alert{
		ID: "01JD0000000000000000000001", RuleID: "high_error_rate", RuleName: "High error rate",
		State: alert.StateActive, Severity: alert.Critical, Summary: "Error rate is 12.5% on checkout",
		Description: "checkout fails one request in eight <see runbook>",
		Labels:      alert.Labels{"service": "checkout", "env": "prod", "region": "eu-west-1", "team": "payments"},
		Annotations: map[string]string{"runbook_url": "https://example.com/runbook?a=1&b=2"},
		Value:       0.125, Threshold: &th, Source: "rule", Metadata: map[string]string{"region": "eu-west-1"},
		StartedAt: now.Add(-2 * time.Minute), UpdatedAt: now, ActiveAt: &now, LastNotifiedAt: &now,
		Channels: []string{"ops", "pager"}, Sequence: 2,
	}
	a.Fingerprint = alert.NewFingerprint(a.RuleID, a.Labels)
	return a
}

func BenchmarkAlertAppendJSON(b *testing.B) {
	a := benchAlert()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = a.AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAlertJSONMarshal(b *testing.B) {
	a := benchAlert()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(a); err != nil {
			b.Fatal(err)
		}
	}
}
