package webhook

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/secret"
)

// FuzzBodyTemplate feeds arbitrary body_template text through Validate and
// New and, when it parses, renders it: nothing may panic, errors name the key,
// and a send always has a body.
func FuzzBodyTemplate(f *testing.F) {
	for _, seed := range []string{
		`{{ json .Payload }}`,
		`{"text": {{ json .Alert.Summary }}}`,
		`{{ .Alert.Labels.team }}`,
		`{{ (index .Alerts 3).Summary }}`,
		`{{ if eq .Status "firing" }}x{{ else }}y{{ end }}`,
		`{{ rfc3339 .CreatedAt }} {{ upper .Channel }} {{ join .Alert.Channels "," }}`,
		`{{ define "x" }}a{{ end }}{{ template "x" }}`,
		`{{`, `}}`, `{{ .`, `{{ nope }}`, `{{ $x := 1 }}{{ $x }}`, "",
	} {
		f.Add(seed)
	}
	n := activeNotification()
	f.Fuzz(func(t *testing.T, text string) {
		cfg := Config{URL: secret.New("http://127.0.0.1:1/hook"), BodyTemplate: text}
		err := cfg.Validate()
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "body_template: "), err.Error())
			return
		}
		ch, err := New("fuzz", cfg)
		require.NoError(t, err)
		// Loops and recursion can run for a very long time on purpose;
		// the fuzzer checks parsing and ordinary rendering.
		if strings.Contains(text, "range") || strings.Contains(text, "template") || strings.Contains(text, "block") {
			return
		}
		body, _, err := ch.body(n, n.IdempotencyKey, t0)
		require.NoError(t, err)
		require.NotEmpty(t, body)
	})
}
