package pagerduty

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzTruncate: any input gives valid UTF-8 of at most n runes, a prefix of
// the (repaired) input.
func FuzzTruncate(f *testing.F) {
	f.Add("disk full", 4)
	f.Add(strings.Repeat("🔥", 30), 10)
	f.Add("a\xffb", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 2048 {
			n = 1 + abs(n)%2048
		}
		got := truncate(s, n)
		require.True(t, utf8.ValidString(got))
		require.LessOrEqual(t, utf8.RuneCountInString(got), n)
		fixed := strings.ToValidUTF8(s, "\uFFFD")
		require.True(t, strings.HasPrefix(fixed, strings.TrimSuffix(got, ellipsis)))
	})
}

// FuzzAnswer: PagerDuty's answers (outside input) never panic the parser and
// never put the routing key in an error text.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"status":"success","message":"Event processed","dedup_key":"srv01/HTTP"}`))
	f.Add([]byte(`{"status":"invalid event","message":"Event object is invalid","errors":["x","` + testKey + `"]}`))
	f.Add([]byte(`<html>` + testKey + `</html>`))
	f.Add([]byte(`{"errors":"not a list"}`))
	ch, err := New("pager", Config{RoutingKey: newKey()})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, raw []byte) {
		a := parseAnswer(raw)
		text := ch.describe(a, raw)
		require.True(t, utf8.ValidString(text))
		require.NotContains(t, text, testKey)
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
