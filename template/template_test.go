package template_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/template"
)

func TestHumanize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
	}{
		{1234567.0, "1.235M"}, // mega, four significant digits
		{1500, "1.5k"},        // ints are numbers too
		{0.0, "0"},            // zero has no prefix
		{0.05, "50m"},         // milli
		{0.0000123, "12.3µ"},  // micro
		{-2e9, "-2G"},         // negative keeps its sign
		{42.0, "42"},          // plain
		{"3000", "3k"},        // numeric strings are parsed
		{"n/a", "n/a"},        // anything else prints as is
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, template.Humanize(tt.in), "%v", tt.in)
	}
}

func TestHumanizeDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   any
		want string
	}{
		{95.0, "1m 35s"},       // seconds as a number
		{90061, "1d 1h 1m 1s"}, // every unit
		{2 * time.Hour, "2h"},  // a time.Duration
		{0.25, "250ms"},        // under a second keeps milliseconds
		{"x", "x"},             // not a number
		{3*time.Minute + 400*time.Millisecond, "3m"}, // rounded to the second
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, template.HumanizeDuration(tt.in), "%v", tt.in)
	}
}

func TestPercentJoinTruncate(t *testing.T) {
	t.Parallel()
	require.Equal(t, "12.5%", template.Percent(0.125))
	require.Equal(t, "100%", template.Percent(1))
	require.Equal(t, "18.83%", template.Percent(0.1883408071748879), "two decimals at most")
	require.Equal(t, "0%", template.Percent(-0.000001))
	require.Equal(t, "NaN%", template.Percent(math.NaN()))
	require.Equal(t, `env="prod", tool="search"`, template.JoinLabels(map[string]string{"tool": "search", "env": "prod"}))
	require.Equal(t, "", template.JoinLabels(nil))
	require.Equal(t, "héllo…", template.Truncate(6, "héllo wörld"), "counts runes, not bytes")
	require.Equal(t, "short", template.Truncate(10, "short"))
	require.Equal(t, "", template.Truncate(0, "anything"))
}

func TestParseText_Render(t *testing.T) {
	t.Parallel()
	th := 0.05
	a := &alert.Alert{
		RuleID: "high_error_rate", RuleName: "High error rate", State: alert.StateActive, Severity: alert.Critical,
		Labels: alert.Labels{"tool": "search", "env": "prod"}, Value: 0.123, Threshold: &th,
		StartedAt: time.Now().Add(-95 * time.Second),
	}
	tests := []struct {
		name, text, want string
	}{
		// Fields of the alert and of the wrapper.
		{"fields", "{{ .Name }} is {{ .State }} ({{ .Severity }})", "High error rate is active (critical)"},
		// percent over the value and the threshold.
		{"percent", "{{ percent .Value }} > {{ percent .ThresholdValue }}", "12.3% > 5%"},
		// A missing label is empty, not an error.
		{"missing label", "[{{ .Labels.nope }}]", "[]"},
		// default fills a missing label.
		{"default", `{{ default "any" .Labels.nope }}`, "any"},
		// Labels joined in name order.
		{"joinLabels", "{{ joinLabels .Labels }}", `env="prod", tool="search"`},
		// Case helpers and truncate in a pipeline.
		{"pipeline", "{{ .Name | upper | truncate 6 }}", "HIGH …"},
		// since humanizes the age.
		{"since", "{{ since .StartedAt }}", "1m 35s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tm, err := template.ParseText(tt.name, tt.text)
			require.NoError(t, err)
			var b strings.Builder
			require.NoError(t, tm.Execute(&b, template.AlertData(a)))
			require.Equal(t, tt.want, b.String())
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, wantErr string
	}{
		// A good template passes.
		{"ok", "{{ .Name }}: {{ humanize .Value }} {{ .Labels.tool }}", ""},
		// An unknown function is a parse error with its line.
		{"unknown function", "line one\n{{ nope .Value }}", `r:2: function "nope" not defined`},
		// A field that does not exist fails on the sample alerts.
		{"unknown field", "{{ .Nope.Field }}", "can't evaluate field Nope"},
		// An unclosed action does not parse.
		{"unclosed", "{{ .Name ", "unclosed action"},
		// A field of a string fails at render time.
		{"field of string", "{{ .Summary.Field }}", "can't evaluate field Field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := template.Check("r", tt.text)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestAlertData_PushedAlert(t *testing.T) {
	t.Parallel()
	d := template.AlertData(&alert.Alert{Labels: alert.Labels{"alertname": "disk_full"}, Severity: alert.Info, State: alert.StateResolved})
	require.Equal(t, "disk_full", d.Name, "a pushed alert is named by its alertname")
	require.Equal(t, "info", d.Severity)
	require.Equal(t, "resolved", d.State)
	require.Zero(t, d.ThresholdValue)
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"{{ .Name }}", "{{ humanize .Value }}", "{{ range .Labels }}{{ . }}{{ end }}", "{{ truncate 3 .Summary }}",
		"{{ .Labels.x.y }}", "{{ template \"x\" }}", "{{ define \"a\" }}{{ end }}", "{{ percent \"x\" }}",
		"{{ humanizeDuration -1e300 }}", "{{ truncate -1 \"\" }}", "{{ join \",\" .Labels }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		// Templates that recurse forever are a user mistake Go's own
		// template depth limit stops; anything else must not panic.
		if strings.Count(text, "template") > 2 {
			return
		}
		if _, err := template.ParseText("fuzz", text); err != nil {
			require.Error(t, template.Check("fuzz", text), "Check fails when ParseText fails")
			return
		}
		_ = template.Check("fuzz", text)
	})
}

func TestParseTextWith_NamedTemplates(t *testing.T) {
	t.Parallel()
	named := map[string]string{
		"where": `{{ .Labels.host }} in {{ template "dc" . }}`,
		"dc":    `{{ .Labels.dc | upper }}`,
	}
	tmpl, err := template.ParseTextWith("r.summary", `Disk full on {{ template "where" . }}`, named)
	require.NoError(t, err)
	var b strings.Builder
	a := &alert.Alert{Labels: alert.Labels{"host": "db1", "dc": "fra"}}
	require.NoError(t, tmpl.Execute(&b, template.AlertData(a)))
	require.Equal(t, "Disk full on db1 in FRA", b.String())

	require.NoError(t, template.CheckWith("r.summary", `{{ template "where" . }}`, named))
	err = template.CheckWith("r.summary", `{{ template "nowhere" . }}`, named)
	require.ErrorContains(t, err, `template "nowhere" not defined`)
	// A broken named template fails only the texts that include it.
	broken := map[string]string{"bad": `{{ .Labels.host `}
	require.NoError(t, template.CheckWith("r.summary", `plain`, broken))
	require.ErrorContains(t, template.CheckWith("r.summary", `{{ template "bad" . }}`, broken), `templates.bad does not parse`)
}
