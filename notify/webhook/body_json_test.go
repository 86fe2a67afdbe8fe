package webhook

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
	"github.com/klaxonhq/klaxon/notify"
)

// requireSameBody checks appendKlaxonBody against json.Marshal of the same
// klaxonBody: the same bytes, or both failing.
func requireSameBody(t *testing.T, n *notify.Notification, now time.Time) {
	t.Helper()
	p := klaxonPayload(n, n.IdempotencyKey, now)
	want, wantErr := json.Marshal(p)
	got, err := appendKlaxonBody([]byte("x"), p)
	if wantErr != nil {
		require.Error(t, err, "json.Marshal fails with %v", wantErr)
		require.Equal(t, "x", string(got))
		return
	}
	require.NoError(t, err)
	require.Equal(t, "x"+string(want), string(got))
}

func randNotification(r *rand.Rand) *notify.Notification {
	n := &notify.Notification{
		IdempotencyKey: randalert.String(r), Channel: randalert.String(r),
		Event:     notify.Event(randalert.String(r)),
		GroupKey:  randalert.String(r),
		CreatedAt: randalert.Time(r),
	}
	if r.IntN(2) == 0 {
		n.ExternalURL = randalert.String(r)
	}
	for range r.IntN(4) + 1 {
		n.Alerts = append(n.Alerts, notify.AlertEvent{Alert: randalert.Alert(r), PreviousState: alert.State(randalert.String(r))})
	}
	return n
}

func TestAppendKlaxonBody_MatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		requireSameBody(t, randNotification(r), randalert.Time(r))
	}
	for range 200 {
		n := randNotification(r)
		randalert.Break(r, n.Alerts[r.IntN(len(n.Alerts))].Alert)
		requireSameBody(t, n, randalert.Time(r))
	}
	for _, n := range []*notify.Notification{activeNotification(), acknowledgedNotification(), resolvedGroupNotification()} {
		requireSameBody(t, n, t0)
	}
	// No alerts encodes as null, as encoding/json writes a nil slice.
	requireSameBody(t, &notify.Notification{Event: notify.EventTest, GroupKey: "g"}, t0)
	// normalize turns NaN and infinities into 0 and null, so they encode.
	n := activeNotification()
	n.Alerts[0].Value = math.NaN()
	n.Alerts[0].Threshold = ptr(math.Inf(1))
	requireSameBody(t, n, t0)
}

// TestKlaxonBodyFields pins klaxonBody's JSON fields: appendKlaxonBody
// writes them by hand, so a changed field must be changed there too.
func TestKlaxonBodyFields(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[klaxonBody]()
	var tags []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		tags = append(tags, f.Type.String()+" "+f.Tag.Get("json"))
	}
	require.Equal(t, []string{
		"notify.Event type", "time.Time timestamp", "string idempotency_key", "string group_key",
		"string status", "string channel", "string external_url,omitempty", "[]notify.AlertEvent alerts",
	}, tags)
}

// FuzzAppendKlaxonBody requires appendKlaxonBody to equal json.Marshal for
// bodies built from fuzzed text and times.
func FuzzAppendKlaxonBody(f *testing.F) {
	f.Add("alert.active", "k-1-ops", "<ops&>", "https://x/?a=1&b=2", "\u2028", int64(1767225600), int64(1), 0)
	f.Add("", "", "\xff", "", "", int64(0), int64(0), 3600)
	f.Fuzz(func(t *testing.T, event, key, channel, url, text string, sec, nsec int64, offset int) {
		a := firingAlert()
		a.Summary, a.Labels = text, alert.Labels{text: channel}
		n := &notify.Notification{
			IdempotencyKey: key, Channel: channel, Event: notify.Event(event), ExternalURL: url, GroupKey: text,
			CreatedAt: time.Unix(sec, nsec).In(time.FixedZone("f", offset)),
			Alerts:    []notify.AlertEvent{{Alert: &a, PreviousState: alert.State(text)}},
		}
		requireSameBody(t, n, t0)
	})
}

// BenchmarkKlaxonBody compares the hand-written body encoding with
// encoding/json's.
func BenchmarkKlaxonBody(b *testing.B) {
	n := activeNotification()
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appendKlaxonBody(make([]byte, 0, 1536), klaxonPayload(n, n.IdempotencyKey, t0)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(klaxonPayload(n, n.IdempotencyKey, t0)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
