package klaxon

import (
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon/alert"
)

// Rule is an alerting rule in Go form. Condition is klaxon's condition
// language ("error_rate > 0.05", "p99(response_time[5m]) > 2000",
// "absent(heartbeat[2m])"); Threshold builds the structured form.
type Rule struct {
	ID   string
	Name string
	// Condition is required.
	Condition string
	// For is how long the condition must hold before the alert fires.
	For time.Duration
	// Severity defaults to medium.
	Severity alert.Severity
	Labels   alert.Labels
	// Summary and Description are text/template texts over the alert
	// ({{ .Value }}, {{ .Labels.tool }}, {{ humanize .Value }}).
	Summary     string
	Description string
	Annotations map[string]string
	// Recovery, when set, is the condition that resolves a firing alert.
	Recovery string
	// Hold keeps an alert firing until its condition has been clear this long.
	Hold time.Duration
	// NoData: "keep" (default), "resolve" or "alert".
	NoData string
	// Channels, when set, are notified instead of the routes' channels.
	Channels []string
}

// Threshold is the structured condition form of the original request,
// threshold("error_rate", ">", 0.05): it returns "error_rate > 0.05". An
// unknown operator is reported, with its column, when the engine is built.
func Threshold(metric, op string, value float64) string {
	return metric + " " + op + " " + strconv.FormatFloat(value, 'g', -1, 64)
}
