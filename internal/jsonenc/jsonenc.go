// Package jsonenc holds append-style JSON primitives whose output is
// byte-for-byte what encoding/json.Marshal produces with its default options.
// klaxon encodes every alert it notifies about; doing that by reflection cost
// a noticeable share of the CPU, so the hot encoders (alert.Alert.AppendJSON,
// notify.AlertEvent.AppendJSON, the webhook body) are written by hand on top
// of these. The differential and fuzz tests pin the equality with
// encoding/json: the JSON is a public contract, so it must never drift.
package jsonenc

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// plain[c] is true for the ASCII bytes encoding/json copies into a string
// unchanged: everything from space up, DEL included, except the quote, the
// backslash and the HTML-sensitive <, > and & (escaped by default).
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal, escaped as encoding/json
// escapes by default: \" \\ \b \f \n \r \t by name, other control bytes and
// <, >, & as \u00XX, U+2028 and U+2029 as \u2028 and \u2029, and each byte
// of invalid UTF-8 as \ufffd. Everything else is copied as is.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, to be copied unchanged
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendFloat appends f as encoding/json writes a float64: the shortest
// representation that round-trips, in plain notation for magnitudes in
// [1e-6, 1e21) (and zero, including "-0"), else in exponent notation with
// a negative exponent's leading zero dropped ("1e-7", but "1e+21"). NaN and
// the infinities are not JSON: they fail with *json.UnsupportedValueError.
func AppendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	abs := math.Abs(f)
	if abs == 0 || abs >= 1e-6 && abs < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64), nil
	}
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
	// strconv pads exponents to two digits; JSON (like ES6) does not, but
	// encoding/json only trims the negative ones.
	if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
		dst[n-2] = dst[n-1]
		dst = dst[:n-1]
	}
	return dst, nil
}

// The types encoding/json names when a time's MarshalJSON fails: the
// marshaler it calls is the field's, so a *time.Time field names the pointer.
var (
	timeType    = reflect.TypeFor[time.Time]()
	timePtrType = reflect.TypeFor[*time.Time]()
)

// AppendTime appends t as time.Time.MarshalJSON does: quoted RFC 3339 with
// as many fractional-second digits as needed (none for whole seconds), "Z"
// for a zero offset, else the offset in hours and minutes. Like
// MarshalJSON it refuses years outside [0,9999] and offsets of 24 hours or
// more, which RFC 3339 cannot express; the error is what json.Marshal
// returns for them.
func AppendTime(dst []byte, t time.Time) ([]byte, error) {
	return appendTime(dst, t, timeType)
}

// AppendTimePtr appends *t as AppendTime does, or null when t is nil.
func AppendTimePtr(dst []byte, t *time.Time) ([]byte, error) {
	if t == nil {
		return append(dst, "null"...), nil
	}
	return appendTime(dst, *t, timePtrType)
}

func appendTime(dst []byte, t time.Time, typ reflect.Type) ([]byte, error) {
	n0 := len(dst) + 1 // where the formatted time starts
	b := t.AppendFormat(append(dst, '"'), time.RFC3339Nano)
	var msg string
	switch {
	case b[n0+len("9999")] != '-':
		msg = "year outside of range [0,9999]"
	case b[len(b)-1] != 'Z':
		c := b[len(b)-len("Z07:00")]
		h := 10*(b[len(b)-5]-'0') + (b[len(b)-4] - '0')
		if '0' <= c && c <= '9' || h >= 24 {
			msg = "timezone hour outside of range [0,23]"
		}
	}
	if msg != "" {
		return dst, &json.MarshalerError{Type: typ, Err: errors.New("Time.MarshalJSON: " + msg)}
	}
	return append(b, '"'), nil
}

// AppendStringMap appends m as encoding/json writes a map[string]string:
// null when nil, else an object whose keys are sorted by their unescaped
// bytes.
func AppendStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var small [16]string // most label sets fit: sort them without allocating
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendString(dst, m[k])
	}
	return append(dst, '}')
}

// AppendStrings appends s as encoding/json writes a []string: null when
// nil, else an array.
func AppendStrings(dst []byte, s []string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, v := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, v)
	}
	return append(dst, ']')
}
