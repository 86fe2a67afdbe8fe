package rowcodec

import (
	"encoding/json"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/store"
)

func TestRoundTrips(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	require.True(t, FromNanos(Nanos(at)).Equal(at))
	require.Equal(t, time.UTC, FromNanos(Nanos(at)).Location())
	require.True(t, FromNanos(Nanos(time.Time{})).IsZero())
	require.Nil(t, FromPtrNanos(PtrNanos(nil)))
	require.True(t, FromPtrNanos(PtrNanos(&at)).Equal(at))

	s, err := JSONText(map[string]string(nil), "{}")
	require.NoError(t, err)
	require.Equal(t, "{}", s)
	var m map[string]string
	require.NoError(t, FromJSON(s, &m))
	require.Nil(t, m)
	s, err = JSONText(map[string]string{"a": "b"}, "{}")
	require.NoError(t, err)
	require.NoError(t, FromJSON(s, &m))
	require.Equal(t, map[string]string{"a": "b"}, m)
	require.ErrorContains(t, FromJSON("{bad", &m), "decode")

	// The hand-written encoders write what encoding/json would.
	for _, v := range []any{
		map[string]string{"z": "<&>", "a": "\u2028 \"q\" \x01", "é": ""},
		alert.Labels{"k": "v", "b": "x\ny"},
		[]string{"ops", "pager\t<b>", ""},
	} {
		s, err := JSONText(v, "")
		require.NoError(t, err)
		want, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, string(want), s)
	}
}

func TestLoadMigrations(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
	}
	ms, err := LoadMigrations(fsys, "m")
	require.NoError(t, err)
	require.Equal(t, []Migration{{1, "0001_a.sql", "A"}, {2, "0002_b.sql", "B"}}, ms)
	fsys["m/0002_c.sql"] = &fstest.MapFile{Data: []byte("C")}
	_, err = LoadMigrations(fsys, "m")
	require.ErrorContains(t, err, "share a version")
	_, err = LoadMigrations(fstest.MapFS{"m/x.sql": {}}, "m")
	require.ErrorContains(t, err, "positive number")
}

func TestInlineSent(t *testing.T) {
	t.Parallel()
	ok := &store.NotificationResult{ID: 7, State: store.NotificationSent, Delivery: &store.Delivery{Outcome: store.OutcomeSent}}
	require.True(t, InlineSent(ok))
	retry := &store.NotificationResult{ID: 7, State: store.NotificationQueued, Delivery: &store.Delivery{Outcome: store.OutcomeRetry}}
	require.False(t, InlineSent(retry), "only plain successes live in the notification row")
	other := &store.NotificationResult{ID: 7, State: store.NotificationSent, Delivery: &store.Delivery{Outcome: store.OutcomeSent, NotificationID: 8}}
	require.False(t, InlineSent(other), "an entry about another record keeps its own row")
	d := &store.Delivery{}
	FillDelivery(d, 7, "a", "fp", "ops", "alert.active")
	require.True(t, SameRecord(d, "a", "fp", "ops", "alert.active"))
	require.EqualValues(t, 7, d.NotificationID)
}

// Times past what int64 nanoseconds hold are clamped, not wrapped: a
// silence "until 9999" must not come back ending in 1816.
func TestNanosClamps(t *testing.T) {
	t.Parallel()
	far := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	got := FromNanos(Nanos(far))
	require.Equal(t, 2262, got.Year())
	require.True(t, got.After(time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)))
	old := FromNanos(Nanos(time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, 1677, old.Year())
	in := time.Date(2026, 11, 24, 1, 2, 3, 456789012, time.UTC)
	require.Equal(t, in, FromNanos(Nanos(in)))
}
