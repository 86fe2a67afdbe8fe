package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
)

// Labels identify an alert or a metric series. A nil Labels is empty.
type Labels map[string]string

// Names returns the label names, sorted.
func (l Labels) Names() []string {
	return slices.Sorted(maps.Keys(l))
}

// Clone returns an independent copy (nil stays nil).
func (l Labels) Clone() Labels { return maps.Clone(l) }

// Merge returns a new Labels with l's pairs overridden by o's.
func (l Labels) Merge(o Labels) Labels {
	out := make(Labels, len(l)+len(o))
	maps.Copy(out, l)
	maps.Copy(out, o)
	return out
}

// String renders the labels as {a="1", b="2"} in name order.
func (l Labels) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range l.Names() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(strings.ReplaceAll(l[k], `"`, `\"`))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// Fingerprint identifies one alert series: the same rule with the same labels
// always has the same fingerprint, across restarts, machines and versions.
//
// It is the first 16 bytes of SHA-256 over the rule id and the labels sorted
// by name, each string prefixed by its length in decimal and a colon
// ("3:cpu"), hex-encoded (32 characters). The length prefixes make the
// encoding unambiguous, so no choice of label text can make two different
// label sets collide by construction. Alerts pushed over the API have an empty
// rule id; their identity is their labels alone.
type Fingerprint string

// NewFingerprint computes the fingerprint of a rule id and label set.
func NewFingerprint(ruleID string, labels Labels) Fingerprint {
	h := sha256.New()
	var num [20]byte
	write := func(s string) {
		b := appendInt(num[:0], len(s))
		b = append(b, ':')
		h.Write(b)
		h.Write([]byte(s))
	}
	write(ruleID)
	for _, k := range labels.Names() {
		write(k)
		write(labels[k])
	}
	sum := h.Sum(nil)
	return Fingerprint(hex.EncodeToString(sum[:16]))
}

func appendInt(b []byte, n int) []byte {
	if n == 0 {
		return append(b, '0')
	}
	var tmp [20]byte
	i := len(tmp)
	for n > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

// String returns the hex form.
func (f Fingerprint) String() string { return string(f) }
