package lifecycle

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// Pushed alerts at rest are kept packed: one pointer-free string of bytes
// instead of an alert.Alert (384 bytes), its label map (about 330 bytes for
// three labels) and a dozen strings. A pushed alert is only read when
// something happens to it (a post, an acknowledgement, its end time, the
// API), so decoding it then costs less than the memory and the garbage
// collector's scanning of every field of every alert held. At 20,000 open
// alerts that is about 13 MB less heap, and the in-flight notifications
// share the same bytes (heldEvent).
//
// The format is private to this process (never stored or sent): strings
// and counts as uvarints, times as their zone, seconds and nanoseconds,
// maps and slices with their count plus one so nil stays nil.

const packVersion = 1

// packAlert encodes a. The packing is a string: immutable, so the entry
// and the records on their way share it, and the strings unpacked from it
// are slices of it, not copies.
func packAlert(a *alert.Alert) string {
	var scratch [512]byte
	return string(appendPacked(scratch[:0], a))
}

func appendPacked(b []byte, a *alert.Alert) []byte {
	b = append(b, packVersion)
	for _, s := range []string{a.ID, string(a.Fingerprint), a.RuleID, a.RuleName, string(a.State), a.Summary,
		a.Description, a.Source, a.AcknowledgedBy, a.AckComment, a.SilencedBy} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, int64(a.Severity))
	b = appendMap(b, a.Labels)
	b = appendMap(b, a.Annotations)
	b = appendMap(b, a.Metadata)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.Value))
	if a.Threshold == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*a.Threshold))
	}
	b = appendTime(b, a.StartedAt)
	b = appendTime(b, a.UpdatedAt)
	for _, p := range []*time.Time{a.ActiveAt, a.AcknowledgedAt, a.ResolvedAt, a.EndsAt, a.LastNotifiedAt} {
		if p == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = appendTime(b, *p)
	}
	if a.Channels == nil {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(a.Channels))+1)
		for _, c := range a.Channels {
			b = appendString(b, c)
		}
	}
	b = binary.AppendVarint(b, int64(a.EscalationLevel))
	b = binary.AppendVarint(b, a.Sequence)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m))+1)
	for k, v := range m {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	return b
}

// Time zones a packed time comes back in: the clock's own (time.Local, the
// engine's default clock), UTC (the store's), or any other as its name and
// offset at that instant (an end time posted with an offset).
const (
	zoneZero  = 0
	zoneUTC   = 1
	zoneLocal = 2
	zoneFixed = 3
)

// appendTime encodes t with its zone; the zero time is a single 0 byte.
func appendTime(b []byte, t time.Time) []byte {
	switch loc := t.Location(); {
	case t.IsZero():
		return append(b, zoneZero)
	case loc == time.UTC:
		b = append(b, zoneUTC)
	case loc == time.Local:
		b = append(b, zoneLocal)
	default:
		name, off := t.Zone()
		b = append(b, zoneFixed)
		b = binary.AppendVarint(b, int64(off))
		b = appendString(b, name)
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// packedKeys returns the id and fingerprint of a packing (its first two
// strings) as slices of it.
func packedKeys(p string) (string, alert.Fingerprint) {
	r := unpacker{s: p[1:]}
	id := r.string()
	return id, alert.Fingerprint(r.string())
}

// unpackAlert decodes what packAlert encoded. The bytes never leave this
// process, so an error is a bug: it names what could not be read.
func unpackAlert(p string) (*alert.Alert, error) {
	r := unpacker{s: p}
	if v := r.byte(); v != packVersion {
		return nil, fmt.Errorf("packed alert: version %d, want %d", v, packVersion)
	}
	a := &alert.Alert{}
	a.ID = r.string()
	a.Fingerprint = alert.Fingerprint(r.string())
	a.RuleID = r.string()
	a.RuleName = r.string()
	a.State = alert.State(r.string())
	a.Summary = r.string()
	a.Description = r.string()
	a.Source = r.string()
	a.AcknowledgedBy = r.string()
	a.AckComment = r.string()
	a.SilencedBy = r.string()
	a.Severity = alert.Severity(r.varint())
	a.Labels = r.stringMap()
	a.Annotations = r.stringMap()
	a.Metadata = r.stringMap()
	a.Value = r.float()
	if r.byte() == 1 {
		v := r.float()
		a.Threshold = &v
	}
	a.StartedAt = r.time()
	a.UpdatedAt = r.time()
	for _, p := range []**time.Time{&a.ActiveAt, &a.AcknowledgedAt, &a.ResolvedAt, &a.EndsAt, &a.LastNotifiedAt} {
		if r.byte() == 1 {
			t := r.time()
			*p = &t
		}
	}
	if n := r.count(); n > 0 {
		a.Channels = make([]string, 0, n-1)
		for range n - 1 {
			a.Channels = append(a.Channels, r.string())
		}
	}
	a.EscalationLevel = int(r.varint())
	a.Sequence = r.varint()
	if r.err == nil && len(r.s) > 0 {
		r.err = fmt.Errorf("%d bytes left over", len(r.s))
	}
	if r.err != nil {
		return nil, fmt.Errorf("packed alert: %w", r.err)
	}
	return a, nil
}

// unpacker reads a packed alert; after the first error every read returns
// a zero value and err says what failed.
type unpacker struct {
	s   string // what is left to read
	err error
}

func (r *unpacker) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated %s", what)
	}
	r.s = ""
}

func (r *unpacker) byte() byte {
	if len(r.s) < 1 {
		r.fail("flag")
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

// uvarint reads what binary.AppendUvarint wrote.
func (r *unpacker) uvarint() uint64 {
	var v uint64
	for i := 0; i < binary.MaxVarintLen64 && i < len(r.s); i++ {
		c := r.s[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break // overflows 64 bits
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			r.s = r.s[i+1:]
			return v
		}
	}
	r.fail("count")
	return 0
}

// varint reads what binary.AppendVarint wrote (zig-zag).
func (r *unpacker) varint() int64 {
	u := r.uvarint()
	if r.err != nil {
		return 0 // the first failure stays what err says
	}
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// string returns the next string as a slice of the packing: no copy.
func (r *unpacker) string() string {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.fail("string")
		return ""
	}
	v := r.s[:n]
	r.s = r.s[n:]
	return v
}

func (r *unpacker) float() float64 {
	if len(r.s) < 8 {
		r.fail("number")
		return 0
	}
	var u uint64
	for i := range 8 {
		u |= uint64(r.s[i]) << (8 * i)
	}
	r.s = r.s[8:]
	return math.Float64frombits(u)
}

func (r *unpacker) time() time.Time {
	zone := r.byte()
	var loc *time.Location
	switch zone {
	case zoneZero:
		return time.Time{}
	case zoneUTC:
		loc = time.UTC
	case zoneLocal:
		loc = time.Local
	case zoneFixed:
		off := r.varint()
		name := r.string()
		if off <= -1<<31 || off >= 1<<31 {
			r.fail("time zone")
			return time.Time{}
		}
		loc = time.FixedZone(name, int(off))
	default:
		r.fail("time zone")
		return time.Time{}
	}
	sec := r.varint()
	nsec := r.uvarint()
	if nsec >= 1e9 {
		r.fail("time")
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).In(loc)
}

// count reads a count plus one (0 for nil); each item takes at least a
// byte, so a count beyond the bytes left is corrupt.
func (r *unpacker) count() uint64 {
	n := r.uvarint()
	if n > uint64(len(r.s))+1 {
		r.fail("count")
		return 0
	}
	return n
}

func (r *unpacker) stringMap() map[string]string {
	n := r.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n-1)
	for range n - 1 {
		k := r.string()
		m[k] = r.string()
		if r.err != nil {
			return nil
		}
	}
	return m
}

// heldEvent is the decoded event of the records a transition hands to the
// dispatcher (store.NotificationInsert.Decoded). Until the transition
// commits it holds the event itself; when the alert is then packed, it
// holds the same packed bytes as the entry instead, so a backlog of
// notifications on their way costs no alert copies. Its fields are set
// before the records are handed over, and only read after.
type heldEvent struct {
	ae     *notify.AlertEvent
	packed string
	prev   alert.State
}

// AlertEvent implements notify.EventSource.
func (h *heldEvent) AlertEvent() (*notify.AlertEvent, error) {
	if h.ae != nil {
		return h.ae, nil
	}
	a, err := unpackAlert(h.packed)
	if err != nil {
		return nil, err
	}
	return &notify.AlertEvent{Alert: a, PreviousState: h.prev}, nil
}
