package pagerduty

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		// Short strings are kept.
		{"short", "disk full", 1024, "disk full"},
		// Exactly n runes is not cut.
		{"exact", strings.Repeat("é", 1024), 1024, strings.Repeat("é", 1024)},
		// One rune over: n-1 runes and an ellipsis.
		{"one over", strings.Repeat("é", 1025), 1024, strings.Repeat("é", 1023) + "…"},
		// 4-byte runes (emoji) are never split.
		{"emoji", strings.Repeat("🔥", 2000), 1024, strings.Repeat("🔥", 1023) + "…"},
		// Mixed widths: the cut lands on a rune boundary.
		{"mixed", "a" + strings.Repeat("日本", 600), 1024, "a" + strings.Repeat("日本", 511) + "…"},
		// Many bytes but few runes: 1,024 three-byte runes are 3,072 bytes
		// and still fit.
		{"bytes over runes under", strings.Repeat("日", 1024), 1024, strings.Repeat("日", 1024)},
		// Invalid UTF-8 becomes U+FFFD before counting.
		{"invalid utf8", "ok\xff\xfe", 1024, "ok\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := truncate(tc.in, tc.n)
			require.Equal(t, tc.want, got)
			require.True(t, utf8.ValidString(got))
			require.LessOrEqual(t, utf8.RuneCountInString(got), tc.n)
		})
	}
}

func TestChannel_Send_LongSummary(t *testing.T) {
	t.Parallel()
	f := newFakePD(t)
	ch := newChannel(t, f, Config{})
	a := firingAlert()
	a.Summary = strings.Repeat("ß", 700) + strings.Repeat("🚨", 700)
	_, err := ch.Send(t.Context(), notification(notify.EventActive, a))
	require.NoError(t, err)
	s := f.events(t)[0]["payload"].(map[string]any)["summary"].(string)
	require.Equal(t, 1024, utf8.RuneCountInString(s))
	require.Equal(t, strings.Repeat("ß", 700)+strings.Repeat("🚨", 323)+"…", s)
}

func TestEncode_Oversize(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 600_000)
	for _, tc := range []struct {
		name  string
		edit  func(a *alert.Alert)
		stage int
		check func(t *testing.T, p map[string]any)
	}{
		// Fits: nothing is trimmed.
		{"small", func(*alert.Alert) {}, 0, func(t *testing.T, p map[string]any) {
			require.NotContains(t, p["custom_details"], "klaxon_trimmed")
		}},
		// One huge annotation: every value is cut, the rest is kept.
		{"huge annotation", func(a *alert.Alert) { a.Annotations["dump"] = big }, 1, func(t *testing.T, p map[string]any) {
			d := p["custom_details"].(map[string]any)
			ann := d["annotations"].(map[string]any)
			require.Equal(t, 1024, utf8.RuneCountInString(ann["dump"].(string)))
			require.Equal(t, "https://example.com/runbooks/error-rate", ann["runbook_url"])
			require.Equal(t, map[string]any{"service": "checkout", "env": "prod", "component": "api"}, d["labels"])
			require.Contains(t, d["klaxon_trimmed"], "every custom_details value was cut to 1024 characters")
		}},
		// 2,000 labels of 400 bytes: cutting values is not enough, so
		// custom_details keeps the alert's identity only.
		{"many labels", func(a *alert.Alert) {
			a.Labels = alert.Labels{}
			for i := range 2000 {
				a.Labels[strings.Repeat("k", 10)+string(rune('a'+i%26))+strings.Repeat("z", i%97)+strconv.Itoa(i)] = strings.Repeat("v", 400)
			}
		}, 2, func(t *testing.T, p map[string]any) {
			d := p["custom_details"].(map[string]any)
			require.NotContains(t, d, "labels")
			require.Equal(t, "01JD0000000000000000000001", d["alert_id"])
			require.Equal(t, "active", d["state"])
			require.Equal(t, 0.125, d["value"])
			require.Contains(t, d["klaxon_trimmed"], "reduced to the alert's identity")
		}},
		// A huge configured-away field (the source from metadata): cut too.
		{"huge source", func(a *alert.Alert) { a.Metadata["server"] = big }, 3, func(t *testing.T, p map[string]any) {
			require.Equal(t, 255, utf8.RuneCountInString(p["source"].(string)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ch := newChannel(t, nil, Config{})
			a := firingAlert()
			tc.edit(&a)
			ev := ch.buildEvent(notification(notify.EventActive, a), 0, actionTrigger)
			ev.RoutingKey = testKey
			body, stage, err := encode(ev)
			require.NoError(t, err)
			require.Equal(t, tc.stage, stage)
			require.LessOrEqual(t, len(body), maxEventSize)
			requireEvent(t, body)
			var got map[string]any
			require.NoError(t, json.Unmarshal(body, &got))
			tc.check(t, got["payload"].(map[string]any))
		})
	}
}

// TestChannel_Send_Oversize sends a huge event through the fake: it arrives
// under 512 KB and is accepted.
func TestChannel_Send_Oversize(t *testing.T) {
	t.Parallel()
	f := newFakePD(t)
	ch := newChannel(t, f, Config{})
	a := firingAlert()
	a.Description = strings.Repeat("d", 1<<20)
	_, err := ch.Send(t.Context(), notification(notify.EventActive, a))
	require.NoError(t, err)
	f.mu.Lock()
	size := len(f.bodies[0])
	f.mu.Unlock()
	require.Less(t, size, maxEventSize)
}

func TestDedupKey(t *testing.T) {
	t.Parallel()
	a := firingAlert()
	require.Equal(t, string(a.Fingerprint), dedupKey(&a))
	a.Fingerprint = ""
	require.Equal(t, string(alert.NewFingerprint(a.RuleID, a.Labels)), dedupKey(&a), "computed when missing")
	a.Fingerprint = alert.Fingerprint(strings.Repeat("f", 300))
	require.Len(t, dedupKey(&a), 64, "over 255 characters: its SHA-256")
}
