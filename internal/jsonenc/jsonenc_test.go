package jsonenc_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/internal/jsonenc"
	"github.com/klaxonhq/klaxon/internal/randalert"
)

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}

func result(b []byte, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}

func requireString(t *testing.T, s string) {
	t.Helper()
	require.Equal(t, marshal(s), string(jsonenc.AppendString(nil, s)), "%q", s)
}

func requireFloat(t *testing.T, f float64) {
	t.Helper()
	require.Equal(t, marshal(f), result(jsonenc.AppendFloat(nil, f)), "%v", f)
}

func requireTime(t *testing.T, tm time.Time) {
	t.Helper()
	require.Equal(t, marshal(tm), result(jsonenc.AppendTime(nil, tm)), "%v", tm)
	require.Equal(t, marshal(&tm), result(jsonenc.AppendTimePtr(nil, &tm)), "%v", tm)
}

func TestMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for c := range 256 { // every byte alone and inside text
		requireString(t, string(rune(c)))
		requireString(t, "a"+string([]byte{byte(c)})+"b")
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e-6, math.Nextafter(1e-6, 0), 1e21, math.Nextafter(1e21, 0), 1e-10, 1e-100, 1e300} {
		requireFloat(t, f)
	}
	for _, tm := range []time.Time{
		{}, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 23*3600+59*60+59)),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600)),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 1000*3600)),
	} {
		requireTime(t, tm)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		requireString(t, randalert.String(r))
		requireFloat(t, randalert.Float(r))
		requireFloat(t, math.Float64frombits(r.Uint64()))
		requireTime(t, randalert.Time(r))
		m := randalert.Map(r)
		require.Equal(t, marshal(m), string(jsonenc.AppendStringMap(nil, m)))
	}
	require.Equal(t, "null", string(jsonenc.AppendStrings(nil, nil)))
	require.Equal(t, "null", result(jsonenc.AppendTimePtr(nil, nil)))
	require.Equal(t, marshal([]string{}), string(jsonenc.AppendStrings(nil, []string{})))
	require.Equal(t, marshal([]string{"<", "\xff"}), string(jsonenc.AppendStrings(nil, []string{"<", "\xff"})))
}

// FuzzAppendPrimitives requires the string, number and time encodings to
// equal encoding/json's, errors included.
func FuzzAppendPrimitives(f *testing.F) {
	f.Add("<a&b>\u2028\xff\x00", 1e21, int64(0), int64(0), 0)
	f.Add("", math.Copysign(0, -1), int64(253402300799), int64(999999999), -3600)
	f.Add("\"\\\t", 1e-7, int64(-62167219200), int64(1), 86400)
	f.Fuzz(func(t *testing.T, s string, x float64, sec, nsec int64, offset int) {
		requireString(t, s)
		requireFloat(t, x)
		requireTime(t, time.Unix(sec, nsec).In(time.FixedZone(s, offset)))
		m := map[string]string{s: s, s + "1": "", "": s}
		require.Equal(t, marshal(m), string(jsonenc.AppendStringMap(nil, m)))
	})
}
