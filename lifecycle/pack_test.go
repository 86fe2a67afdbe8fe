package lifecycle

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/internal/randalert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

// randomAlert is a random alert (internal/randalert: every field, nil and
// empty maps, odd zones and strings) whose times carry no monotonic clock
// reading, which packing does not keep; some are in the local zone.
func randomAlert(r *rand.Rand) *alert.Alert {
	a := randalert.Alert(r)
	for _, t := range []*time.Time{&a.StartedAt, &a.UpdatedAt, a.ActiveAt, a.AcknowledgedAt, a.ResolvedAt, a.EndsAt, a.LastNotifiedAt} {
		if t == nil || t.IsZero() {
			continue
		}
		*t = t.Round(0)
		if r.IntN(4) == 0 {
			*t = t.In(time.Local)
		}
	}
	return a
}

// Every field survives packing exactly (times with their zone, less the
// monotonic clock reading), nil and empty kept apart.
func TestPack_RoundTripsEveryField(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		a := randomAlert(r)
		got, err := unpackAlert(packAlert(a))
		require.NoError(t, err, "alert %d", i)
		require.Equal(t, a, got, "alert %d", i)
	}
	// NaN and infinities too (pushed values are checked upstream, but the
	// packing must not be what changes them).
	a := &alert.Alert{ID: "x", Value: math.Inf(-1)}
	got, err := unpackAlert(packAlert(a))
	require.NoError(t, err)
	require.True(t, math.IsInf(got.Value, -1))
}

// Truncated or corrupt bytes give an error, never a panic or a half alert.
func TestPack_CorruptBytesFail(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	p := packAlert(randomAlert(r))
	for n := range len(p) {
		_, err := unpackAlert(p[:n])
		require.Error(t, err, "truncated to %d of %d bytes", n, len(p))
	}
	// The first failure is the one named, however many reads follow it.
	_, err := unpackAlert("\x01\x05ab")
	require.EqualError(t, err, "packed alert: truncated string")
	_, err = unpackAlert(p + "\x00")
	require.ErrorContains(t, err, "left over")
	bad := []byte(p)
	bad[0] = 9
	_, err = unpackAlert(string(bad))
	require.ErrorContains(t, err, "version")
}

// Anything unpackAlert accepts packs back to an alert that unpacks the
// same; nothing makes it panic.
func FuzzUnpackAlert(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 8 {
		f.Add([]byte(packAlert(randomAlert(r))))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		a, err := unpackAlert(string(p))
		if err != nil {
			return
		}
		b, err := unpackAlert(packAlert(a))
		require.NoError(t, err)
		require.Equal(t, a, b)
	})
}

// within reports whether s's bytes lie inside p's.
func within(s, p string) bool {
	at, base := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(p)))
	return at >= base && at+uintptr(len(s)) <= base+uintptr(len(p))
}

// A pushed alert at rest is packed, and the records on their way share its
// bytes (their event, alert id and fingerprint): the event they carry is
// the committed alert, equal to the stored payload, and later posts do not
// change it.
func TestManager_PushedAlertIsPackedAndSharedWithItsRecords(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	ctx := context.Background()
	labels := alert.Labels{"alertname": "disk_full", "host": "db1"}
	_, err := b.m.Push(ctx, []Pushed{{Labels: labels, Severity: alert.High, Summary: "full"}})
	require.NoError(t, err)
	recs := b.take()
	require.Len(t, recs, 1)

	b.m.mu.Lock()
	e := b.m.open[alert.NewFingerprint("", labels)]
	require.NotNil(t, e)
	require.Nil(t, e.a, "a pushed alert at rest is packed")
	held, ok := recs[0].Decoded.(*heldEvent)
	require.True(t, ok)
	require.Nil(t, held.ae, "the record holds the packed bytes, not the alert")
	require.Equal(t, unsafe.StringData(e.packed), unsafe.StringData(held.packed), "and shares the entry's bytes")
	require.True(t, within(recs[0].AlertID, e.packed), "the record's alert id is a slice of the packing")
	require.True(t, within(string(recs[0].Fingerprint), e.packed), "so is its fingerprint")
	require.Equal(t, e.id, recs[0].AlertID)
	require.Equal(t, alert.NewFingerprint("", labels), recs[0].Fingerprint)
	b.m.mu.Unlock()

	ev, err := held.AlertEvent()
	require.NoError(t, err)
	require.Equal(t, "full", ev.Summary)
	require.Equal(t, alert.State(""), ev.PreviousState)
	stored, err := b.st.NotificationList(ctx, &store.NotificationListParams{AlertID: ev.ID})
	require.NoError(t, err)
	want, err := json.Marshal(ev)
	require.NoError(t, err)
	require.JSONEq(t, string(stored[0].Payload), string(want), "the event unpacked is the stored payload")

	// Posted again with a new summary: memory moves on, the record's event
	// stays what the transition saw.
	_, err = b.m.Push(ctx, []Pushed{{Labels: labels, Severity: alert.High, Summary: "fuller"}})
	require.NoError(t, err)
	ev2, err := held.AlertEvent()
	require.NoError(t, err)
	require.Equal(t, "full", ev2.Summary)
	// The maps' keys and the entry's id are slices of the current packing:
	// no earlier packing, and no string of the posted alert, stays alive.
	b.m.mu.Lock()
	require.Len(t, b.m.open, 1)
	for fp, e := range b.m.open {
		require.True(t, within(string(fp), e.packed), "the fingerprint key is a slice of the packing")
		require.True(t, within(e.id, e.packed), "the id is a slice of the packing")
		for id := range b.m.byID {
			require.True(t, within(id, e.packed), "the id key is a slice of the packing")
		}
	}
	b.m.mu.Unlock()

	open := b.m.Open()
	require.Len(t, open, 1)
	require.Equal(t, "fuller", open[0].Summary)
	require.Equal(t, labels, open[0].Labels)

	// Acknowledged and resolved through the packed entry.
	acked, err := b.m.Acknowledge(ctx, open[0].ID, "bob", "on it")
	require.NoError(t, err)
	require.Equal(t, alert.StateAcknowledged, acked.State)
	require.Equal(t, int64(2), acked.Sequence)
	recs = b.take()
	require.Len(t, recs, 1)
	src := recs[0].Decoded.(notify.EventSource)
	ae, err := src.AlertEvent()
	require.NoError(t, err)
	require.Equal(t, alert.StateActive, ae.PreviousState)
	require.Equal(t, "bob", ae.AcknowledgedBy)
	_, err = b.m.Resolve(ctx, open[0].ID, "bob", "")
	require.NoError(t, err)
	require.Empty(t, b.m.Open())
}

// Unpacking a pushed alert costs a few microseconds and allocations; the
// benchmark keeps an eye on what the API's list and each send pay.
func BenchmarkUnpackAlert(b *testing.B) {
	end := time.Now().UTC()
	a := &alert.Alert{ID: "0193b8f2-7f3c-7a8e-9b1c-5d2e4f6a8b0c", Fingerprint: alert.NewFingerprint("", alert.Labels{"a": "b"}),
		RuleName: "disk_full", State: alert.StateActive, Severity: alert.High, Summary: "Disk full on db1",
		Labels: alert.Labels{"alertname": "disk_full", "host": "db1", "id": "a-123"}, Source: "api",
		StartedAt: end, UpdatedAt: end, ActiveAt: &end, EndsAt: &end, LastNotifiedAt: &end, Channels: []string{"ops"}, Sequence: 1}
	p := packAlert(a)
	b.Logf("packed: %d bytes", len(p))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := unpackAlert(p); err != nil {
			b.Fatal(err)
		}
	}
}

// Packing allocates once (the string, sized to the packing), and
// unpacking slices its strings out of the packing instead of copying them.
func TestPack_Allocations(t *testing.T) {
	now := time.Now().Round(0)
	a := &alert.Alert{ID: "0193b8f2-7f3c-7a8e-9b1c-5d2e4f6a8b0c", Fingerprint: "6f1c", RuleName: "disk_full",
		State: alert.StateActive, Severity: alert.High, Summary: "Disk full on db1", Source: "api",
		Labels: alert.Labels{"alertname": "disk_full", "host": "db1"}, StartedAt: now, UpdatedAt: now.UTC()}
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = packAlert(a) }))
	p := packAlert(a)
	// The alert, and its label map's header and slots: no string is copied.
	require.Equal(t, 3.0, testing.AllocsPerRun(100, func() { _, _ = unpackAlert(p) }))
}

// The hand-written readers of the packing decode exactly what
// encoding/binary decodes, and fail where it fails (overflow included).
func TestPack_VarintsMatchEncodingBinary(t *testing.T) {
	t.Parallel()
	check := func(b []byte) {
		r := unpacker{s: string(b)}
		got := r.uvarint()
		want, n := binary.Uvarint(b)
		if n <= 0 {
			require.Error(t, r.err, "uvarint(%x)", b)
		} else {
			require.NoError(t, r.err, "uvarint(%x)", b)
			require.Equal(t, want, got, "uvarint(%x)", b)
			require.Equal(t, string(b[n:]), r.s, "uvarint(%x) rest", b)
		}
		r = unpacker{s: string(b)}
		gotv := r.varint()
		wantv, n := binary.Varint(b)
		if n <= 0 {
			require.Error(t, r.err, "varint(%x)", b)
		} else {
			require.NoError(t, r.err, "varint(%x)", b)
			require.Equal(t, wantv, gotv, "varint(%x)", b)
		}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200_000 {
		b := make([]byte, rng.IntN(14))
		for i := range b {
			switch rng.IntN(4) {
			case 0:
				b[i] = byte(rng.IntN(256))
			case 1:
				b[i] = byte(rng.IntN(3))
			default:
				b[i] = 0x80 | byte(rng.IntN(128))
			}
		}
		check(b)
	}
	for last := range 256 {
		for _, fill := range []byte{0x80, 0xff} {
			b := []byte{fill, fill, fill, fill, fill, fill, fill, fill, fill}
			check(append(b, byte(last)))
			check(append(b, byte(last), 0))
		}
	}
	for _, v := range []uint64{0, 1, 127, 128, 1<<63 - 1, 1 << 63, 1<<64 - 1} {
		check(binary.AppendUvarint(nil, v))
		check(binary.AppendVarint(nil, int64(v)))
	}
	f := unpacker{s: string(binary.LittleEndian.AppendUint64(nil, math.Float64bits(-1.5)))}
	require.Equal(t, -1.5, f.float())
}

// Push keeps no reference to the posted label map: changing it afterwards
// changes nothing held.
func TestPush_KeepsNoPostedMap(t *testing.T) {
	t.Parallel()
	b := setup(t, []*Route{{Notify: []string{"ops"}}})
	labels := alert.Labels{"alertname": "disk_full", "host": "db1"}
	_, err := b.m.Push(context.Background(), []Pushed{{Labels: labels}})
	require.NoError(t, err)
	recs := b.take()
	labels["host"] = "changed"
	require.Equal(t, "db1", b.m.Open()[0].Labels["host"])
	ev, err := recs[0].Decoded.(notify.EventSource).AlertEvent()
	require.NoError(t, err)
	require.Equal(t, "db1", ev.Labels["host"])
}
