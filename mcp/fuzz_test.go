package mcp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/metric"
)

// FuzzRecorder feeds client-chosen method and tool names (outside input)
// to the recorder: it must never panic, and every call lands in a series.
func FuzzRecorder(f *testing.F) {
	f.Add("tools/call", "search", true)
	f.Add("resources/read", "", false)
	f.Add("tools/call", "\xff\xfe", true)
	f.Add("\x00", "__name__", false)
	f.Fuzz(func(t *testing.T, method, tool string, failed bool) {
		r := NewRecorder(metric.NewRegistry(&metric.Options{NoRuntime: true}), &Options{MaxTools: 4})
		r.Begin(method, tool).End(failed)
		r.Begin(method, tool).End(!failed)
		r.ToolsListed([]string{tool, method}, true)
		var n float64
		for _, s := range r.Registry().Query("request_count", nil, metric.Last, 0, time.Now()) {
			n += s.Value
		}
		require.Equal(t, 2.0, n)
	})
}
