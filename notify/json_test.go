package notify_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/internal/randalert"
	"github.com/klaxonhq/klaxon/notify"
)

// reflectEvent is AlertEvent's layout without any methods: what
// encoding/json writes by reflection, whatever methods AlertEvent gains.
type reflectEvent struct {
	*alert.Alert
	PreviousState alert.State `json:"previous_state"`
}

// requireSameEventJSON checks AppendJSON, and json.Marshal of the event as
// a pointer, a value and inside a slice, against the reflection encoding.
func requireSameEventJSON(t *testing.T, e notify.AlertEvent) {
	t.Helper()
	want, wantErr := json.Marshal(reflectEvent(e))
	got, err := e.AppendJSON([]byte("x"))
	if wantErr != nil {
		require.Error(t, err, "json.Marshal fails with %v", wantErr)
		require.Equal(t, wantErr.Error(), err.Error())
		require.Equal(t, "x", string(got), "a failure leaves dst as it was")
		for _, v := range []any{e, &e, []notify.AlertEvent{e}} {
			_, err := json.Marshal(v)
			require.Error(t, err)
		}
		return
	}
	require.NoError(t, err)
	require.Equal(t, "x"+string(want), string(got))
	for _, v := range []any{e, &e} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, string(want), string(b))
	}
	wantList, err := json.Marshal([]reflectEvent{reflectEvent(e), reflectEvent(e)})
	require.NoError(t, err)
	gotList, err := json.Marshal([]notify.AlertEvent{e, e})
	require.NoError(t, err)
	require.Equal(t, string(wantList), string(gotList))
}

func randState(r *rand.Rand) alert.State {
	if r.IntN(3) == 0 {
		return alert.State(randalert.String(r))
	}
	return append(alert.States, "")[r.IntN(len(alert.States)+1)]
}

func TestAlertEventJSON_MatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		requireSameEventJSON(t, notify.AlertEvent{Alert: randalert.Alert(r), PreviousState: randState(r)})
	}
	for range 300 {
		a := randalert.Alert(r)
		randalert.Break(r, a)
		requireSameEventJSON(t, notify.AlertEvent{Alert: a, PreviousState: randState(r)})
	}
	// A nil alert contributes no fields.
	requireSameEventJSON(t, notify.AlertEvent{PreviousState: "<\u2028>"})
	requireSameEventJSON(t, notify.AlertEvent{})
	b, err := json.Marshal((*notify.AlertEvent)(nil))
	require.NoError(t, err)
	require.Equal(t, "null", string(b))
}

// FuzzAlertEventAppendJSON requires AppendJSON to equal the reflection
// encoding for events built from fuzzed input.
func FuzzAlertEventAppendJSON(f *testing.F) {
	f.Add("01J", "<svc>", "active", 0.5, 4, int64(1767225600), int64(5), true)
	f.Add("\xff", "\u2028", "", math.Inf(1), 0, int64(0), int64(0), false)
	f.Fuzz(func(t *testing.T, id, label, prev string, value float64, sev int, sec, nsec int64, withAlert bool) {
		e := notify.AlertEvent{PreviousState: alert.State(prev)}
		if withAlert {
			at := time.Unix(sec, nsec).UTC()
			e.Alert = &alert.Alert{
				ID: id, State: alert.State(prev), Severity: alert.Severity(sev), Labels: alert.Labels{label: id},
				Value: value, StartedAt: at, UpdatedAt: at, ResolvedAt: &at, Sequence: sec,
			}
		}
		requireSameEventJSON(t, e)
	})
}

func benchEvent() *notify.AlertEvent {
	th := 0.05
	now := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)
	a := &alert.Alert{
		ID: "01JD0000000000000000000001", RuleID: "high_error_rate", RuleName: "High error rate",
		State: alert.StateActive, Severity: alert.Critical, Summary: "Error rate is 12.5% on checkout",
		Labels:      alert.Labels{"service": "checkout", "env": "prod", "team": "payments"},
		Annotations: map[string]string{"runbook_url": "https://example.com/runbook"},
		Value:       0.125, Threshold: &th, Source: "rule", StartedAt: now, UpdatedAt: now, ActiveAt: &now, Sequence: 2,
	}
	return &notify.AlertEvent{Alert: a, PreviousState: alert.StatePending}
}

func BenchmarkAlertEventAppendJSON(b *testing.B) {
	e := benchEvent()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = e.AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAlertEventJSONMarshal is json.Marshal of an event: reflection.
func BenchmarkAlertEventJSONMarshal(b *testing.B) {
	e := benchEvent()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}

// viaAppend is an AlertEvent whose MarshalJSON calls AppendJSON, as
// AlertEvent's own would.
type viaAppend notify.AlertEvent

func (e viaAppend) MarshalJSON() ([]byte, error) {
	return (*notify.AlertEvent)(&e).AppendJSON(make([]byte, 0, 1024))
}

// BenchmarkAlertEventJSONViaMarshaler shows why AlertEvent has no
// MarshalJSON: json.Marshal compacts a marshaler's output, which costs more
// than the reflection it would save.
func BenchmarkAlertEventJSONViaMarshaler(b *testing.B) {
	e := viaAppend(*benchEvent())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}
