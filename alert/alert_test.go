package alert

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSeverity_ParseStringJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string // input text
		want Severity
	}{
		{"critical", Critical}, // canonical names
		{"HIGH", High},         // case-insensitive
		{"medium", Medium},
		{"warning", Medium}, // Alertmanager's word
		{"error", High},     // PagerDuty's word
		{" low ", Low},      // trimmed
		{"info", Info},
	}
	for _, tc := range tests {
		got, err := ParseSeverity(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	_, err := ParseSeverity("urgent")
	require.ErrorContains(t, err, `unknown severity "urgent"`)

	require.True(t, Critical > High && High > Medium && Medium > Low && Low > Info, "severities order by urgency")
	b, err := json.Marshal(struct{ S Severity }{High})
	require.NoError(t, err)
	require.JSONEq(t, `{"S":"high"}`, string(b))
	var v struct{ S Severity }
	require.NoError(t, json.Unmarshal([]byte(`{"S":"critical"}`), &v))
	require.Equal(t, Critical, v.S)
	require.Error(t, json.Unmarshal([]byte(`{"S":3}`), &v))
	_, err = json.Marshal(Severity(0))
	require.Error(t, err, "the zero severity is not valid")
	require.Equal(t, "severity(9)", Severity(9).String())
}

func TestState_Parse(t *testing.T) {
	t.Parallel()
	for _, s := range States {
		got, err := ParseState(string(s))
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	_, err := ParseState("firing")
	require.Error(t, err)
	require.True(t, StateSuppressed.Firing())
	require.False(t, StatePending.Firing())
	require.False(t, StateResolved.Open())
	var st State
	require.NoError(t, json.Unmarshal([]byte(`""`), &st), "an empty previous state decodes")
	require.Equal(t, State(""), st)
	require.Error(t, json.Unmarshal([]byte(`"nope"`), &st))
}

func TestFingerprint_StableAndUnambiguous(t *testing.T) {
	t.Parallel()
	l := Labels{"service": "api", "alertname": "high_error_rate"}
	fp := NewFingerprint("high_error_rate", l)
	// The documented encoding must never change: stored alerts, PagerDuty
	// dedup keys and webhook ids depend on it. (Checked independently:
	// sha256("15:high_error_rate9:alertname15:high_error_rate7:service3:api")[:16].)
	require.Equal(t, Fingerprint("bcb05481eef209efbe1bd488b7465f60"), fp)
	require.Len(t, string(fp), 32)
	// Label order does not matter.
	require.Equal(t, fp, NewFingerprint("high_error_rate", Labels{"alertname": "high_error_rate", "service": "api"}))
	// Different splits of the same characters differ (length prefixes).
	require.NotEqual(t, NewFingerprint("", Labels{"ab": "c"}), NewFingerprint("", Labels{"a": "bc"}))
	require.NotEqual(t, NewFingerprint("r", nil), NewFingerprint("", Labels{"r": ""}))
	require.NotEqual(t, NewFingerprint("a", nil), NewFingerprint("b", nil))
}

func TestMatcher(t *testing.T) {
	t.Parallel()
	l := Labels{"env": "prod", "host": "db1"}
	tests := []struct {
		name, label string
		op          MatchOp
		value       string
		want        bool
	}{
		{"equal", "env", MatchEqual, "prod", true},
		{"equal other", "env", MatchEqual, "dev", false},
		{"not equal", "env", MatchNotEqual, "dev", true},
		{"missing label is empty", "team", MatchNotEqual, "db", true},
		{"missing label equals empty", "team", MatchEqual, "", true},
		{"regexp anchored", "host", MatchRegexp, "db", false},
		{"regexp", "host", MatchRegexp, "db.*", true},
		{"not regexp", "host", MatchNotRegexp, "web.*", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMatcher(tc.label, tc.op, tc.value)
			require.NoError(t, err)
			require.Equal(t, tc.want, m.Matches(l))
		})
	}
	_, err := NewMatcher("x", MatchRegexp, "(")
	require.ErrorContains(t, err, "bad regular expression")
	_, err = NewMatcher("x", "~", "a")
	require.ErrorContains(t, err, "unknown operator")
	_, err = NewMatcher("", MatchEqual, "a")
	require.Error(t, err)

	// A matcher decoded from JSON compiles itself on first use.
	var m Matcher
	require.NoError(t, json.Unmarshal([]byte(`{"name":"host","op":"=~","value":"db[0-9]"}`), &m))
	require.True(t, m.Matches(l))
	require.True(t, Matchers{}.Matches(l), "no matcher matches everything")
	require.Equal(t, `env="prod"`, Matcher{Name: "env", Op: MatchEqual, Value: "prod"}.String())
}

func TestLabels_StringMergeClone(t *testing.T) {
	t.Parallel()
	l := Labels{"b": `say "hi"`, "a": "1"}
	require.Equal(t, `{a="1", b="say \"hi\""}`, l.String())
	m := l.Merge(Labels{"a": "2", "c": "3"})
	require.Equal(t, Labels{"a": "2", "b": `say "hi"`, "c": "3"}, m)
	require.Equal(t, "1", l["a"], "merge leaves the original alone")
	c := l.Clone()
	c["a"] = "x"
	require.Equal(t, "1", l["a"])
}

func TestAlert_CloneIsDeep(t *testing.T) {
	t.Parallel()
	th := 0.5
	a := &Alert{Labels: Labels{"a": "1"}, Annotations: map[string]string{"x": "y"}, Threshold: &th, Channels: []string{"ops"}}
	c := a.Clone()
	c.Labels["a"] = "2"
	c.Annotations["x"] = "z"
	*c.Threshold = 1
	c.Channels[0] = "other"
	require.Equal(t, "1", a.Labels["a"])
	require.Equal(t, "y", a.Annotations["x"])
	require.InDelta(t, 0.5, *a.Threshold, 0)
	require.Equal(t, "ops", a.Channels[0])
}
