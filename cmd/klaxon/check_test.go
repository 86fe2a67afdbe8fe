package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// designMinimal is the minimal file of DESIGN.md, which every part of
// klaxon must accept as written.
const designMinimal = `server:
  listen: 127.0.0.1:9095
  data_dir: ./klaxon-data
evaluation_interval: 1s
channels:
  ops:
    type: webhook
    url: http://127.0.0.1:9099/hook
rules:
  - id: high_error_rate
    condition: error_rate > 0.05
    for: 0s
    severity: critical
    summary: "Error rate is {{ .Value }}"
routes:
  - notify: [ops]
`

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "klaxon.yml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

func TestCheckConfig_DesignMinimalIsOK(t *testing.T) {
	t.Parallel()
	out, errOut, err := run(t, nil, "check-config", writeFile(t, designMinimal))
	require.NoError(t, err)
	require.Equal(t, "ok\n", out)
	require.Empty(t, errOut)
}

func TestCheckConfig_ThreeMistakes(t *testing.T) {
	t.Parallel()
	// An unknown key (line 8), a bad duration (line 12), a missing channel
	// (line 15).
	text := strings.NewReplacer(
		"    url: http://127.0.0.1:9099/hook\n", "    url: http://127.0.0.1:9099/hook\n    methd: POST\n",
		"for: 0s", "for: 5 minutes",
		"notify: [ops]", "notify: [opz]",
	).Replace(designMinimal)
	path := writeFile(t, text)
	out, errOut, err := run(t, nil, "check-config", path)
	var ec exitCode
	require.True(t, asExit(err, &ec))
	require.Equal(t, exitCode(1), ec)
	require.Empty(t, out)
	require.Equal(t, []string{
		path + `:9:5: channels.ops.methd: unknown key "methd" (did you mean method?)`,
		path + `:13:10: rules[0].for: invalid duration "5 minutes" (use 30s, 5m, 1h)`,
		path + `:17:14: routes[0].notify[0]: unknown channel "opz" (did you mean ops?)`,
	}, strings.Split(strings.TrimSpace(errOut), "\n"))
}

func TestCheckConfig_EachMistakeWithItsLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		from    string
		to      string
		wantPos string
		want    string
	}{
		{
			// A misspelt key gets a suggestion.
			name: "unknown key", from: "  data_dir:", to: "  datadir:",
			wantPos: ":3:3: ", want: `server.datadir: unknown key "datadir" (did you mean data_dir?)`,
		},
		{
			// A duration in words.
			name: "bad duration", from: "evaluation_interval: 1s", to: "evaluation_interval: 1 second",
			wantPos: ":4:22: ", want: `evaluation_interval: invalid duration "1 second"`,
		},
		{
			// A route naming a channel that does not exist.
			name: "missing channel", from: "notify: [ops]", to: "notify: [pager]",
			wantPos: ":16:14: ", want: `routes[0].notify[0]: unknown channel "pager"`,
		},
		{
			// A condition that does not parse, with the column of the mistake.
			name: "bad condition", from: "error_rate > 0.05", to: "error_rate >> 0.05",
			wantPos: ":11:28: ", want: "rules[0].condition: col 13: expected a number",
		},
		{
			// A template calling a function that does not exist.
			name: "unknown function", from: "{{ .Value }}", to: "{{ nope .Value }}",
			wantPos: ":14:14: ", want: `rules[0].summary: template: high_error_rate.summary:1: function "nope" not defined`,
		},
		{
			// A field of something that is not a map fails when rendered
			// against the sample alerts.
			name: "field of a non-map", from: "{{ .Value }}", to: "{{ .Nope.Field }}",
			wantPos: ":14:14: ", want: `rules[0].summary: template: high_error_rate.summary:1:22: executing "high_error_rate.summary" at <.Nope.Field>: can't evaluate field Nope`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, designMinimal, tt.from)
			path := writeFile(t, strings.Replace(designMinimal, tt.from, tt.to, 1))
			_, errOut, err := run(t, nil, "check-config", path)
			require.Error(t, err)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			require.Len(t, lines, 1, errOut)
			require.True(t, strings.HasPrefix(lines[0], path+tt.wantPos), "got %q", lines[0])
			require.Contains(t, lines[0], tt.want)
		})
	}
}

func TestCheckConfig_Unreadable(t *testing.T) {
	t.Parallel()
	_, errOut, err := run(t, nil, "check-config", filepath.Join(t.TempDir(), "missing.yml"))
	require.Error(t, err)
	require.Contains(t, errOut, "missing.yml")
}
