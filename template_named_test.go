package klaxon_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/config"
)

const namedTemplatesYAML = `
evaluation_interval: 1h
templates:
  where: '{{ .Labels.queue }} on {{ .Labels.host | upper }}'
rules:
  - id: queue_too_long
    condition: queue_depth > 10
    for: 0s
    severity: high
    summary: 'Queue {{ template "where" . }} holds {{ .Value }}'
`

// Rules include the file's named templates; check-config reports one that
// does not exist at the rule's field.
func TestRules_IncludeNamedTemplates(t *testing.T) {
	t.Parallel()
	lo := klaxon.LoadOptions(func(string) string { return "" })
	_, err := config.Parse("t.yml", []byte(namedTemplatesYAML), lo)
	require.NoError(t, err)
	_, err = config.Parse("t.yml", []byte(namedTemplatesYAML+"  - id: other\n    condition: x > 1\n    summary: '{{ template \"wher\" . }}'\n"), lo)
	require.ErrorContains(t, err, `t.yml:13:14: rules[1].summary:`)
	require.ErrorContains(t, err, `template "wher" not defined`)

	// A named template may not take a rule's own name, nor define others.
	_, err = config.Parse("t.yml", []byte("templates:\n  r2.summary: x\n  z: '{{define \"where\"}}Z{{end}}'\nrules:\n  - id: r2\n    condition: x > 1\n"), lo)
	require.ErrorContains(t, err, `t.yml:2:3: templates.r2.summary: "r2.summary" is the name of rule r2's own text; choose another name`)
	require.ErrorContains(t, err, `templates.z: defines other templates ({{define}} or {{block}}): give each its own templates: entry`)

	eng := startEngine(t, namedTemplatesYAML)
	require.NoError(t, eng.Metrics().Push("queue_depth", map[string]string{"queue": "jobs", "host": "db1"}, 42, time.Time{}))
	require.NoError(t, eng.Evaluate(t.Context()))
	open := eng.Alerts()
	require.Len(t, open, 1)
	require.Equal(t, "Queue jobs on DB1 holds 42", open[0].Summary)
}
