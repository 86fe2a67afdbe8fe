// Package template holds the helpers and data shape every klaxon text uses:
// rule summaries and descriptions, channel message overrides and the
// check-config safety net. Texts are Go text/template (html/template for
// HTML mail) with a fixed set of functions, so a template that works in one
// place works in all of them.
package template

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/alert"
)

// Funcs returns the helper functions available in every template:
//
//	humanize 1234567      -> "1.235M"     (SI prefixes, 4 significant digits)
//	humanizeDuration 95   -> "1m 35s"     (seconds, or a time.Duration)
//	percent 0.125         -> "12.5%"      (at most two decimals)
//	joinLabels .Labels    -> `env="prod", tool="search"`
//	join ", " .List       -> items joined
//	truncate 20 .Summary  -> at most 20 characters, with "…"
//	upper, lower, title   -> case
//	default "x" .Maybe    -> "x" when .Maybe is empty
//	since .StartedAt      -> "5m 3s"
//	rfc3339 .StartedAt    -> "2026-11-24T10:00:00Z"
func Funcs() template.FuncMap {
	return template.FuncMap{
		"humanize":         Humanize,
		"humanizeDuration": HumanizeDuration,
		"percent":          Percent,
		"joinLabels":       JoinLabels,
		"join":             join,
		"truncate":         Truncate,
		"upper":            strings.ToUpper,
		"lower":            strings.ToLower,
		"title":            title,
		"default":          dflt,
		"since":            since,
		"rfc3339":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
}

// ParseText parses a text template with the helpers. A missing label
// renders as empty text rather than failing, because labels vary per series.
func ParseText(name, text string) (*template.Template, error) {
	return ParseTextWith(name, text, nil)
}

// ParseTextWith is ParseText with the configuration's named templates
// defined, so text can include one with {{ template "NAME" . }} (and named
// templates can include each other). A named template that does not parse
// is replaced by one that fails naming it: its own check reports the real
// error, and only texts that include it fail, not every text.
func ParseTextWith(name, text string, named map[string]string) (*template.Template, error) {
	t := template.New(name).Funcs(Funcs()).Option("missingkey=zero")
	for _, n := range slices.Sorted(maps.Keys(named)) {
		if n == name {
			continue
		}
		if _, err := template.New(n).Funcs(Funcs()).Parse(named[n]); err != nil {
			// Including it fails with a pointer to the real error.
			stub := "{{ template " + strconv.Quote("templates."+n+" does not parse (see its own error)") + " . }}"
			if _, err := t.New(n).Parse(stub); err != nil {
				return nil, fmt.Errorf("named template %q: %w", n, err)
			}
			continue
		}
		if _, err := t.New(n).Parse(named[n]); err != nil {
			return nil, fmt.Errorf("named template %q: %w", n, err)
		}
	}
	return t.Parse(text)
}

// Data is what alert templates see.
type Data struct {
	*alert.Alert
	// Threshold is the rule's threshold, 0 when it has none (the alert's
	// own Threshold field is a pointer).
	ThresholdValue float64
	Severity       string
	State          string
	Name           string
}

// AlertData wraps an alert for templates.
func AlertData(a *alert.Alert) Data {
	d := Data{Alert: a, Severity: a.Severity.String(), State: string(a.State), Name: a.RuleName}
	if a.Threshold != nil {
		d.ThresholdValue = *a.Threshold
	}
	if d.Name == "" {
		d.Name = cmpOr(a.RuleID, a.Labels["alertname"])
	}
	return d
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Humanize prints a number with an SI prefix and four significant digits.
func Humanize(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	abs := math.Abs(f)
	prefixes := []struct {
		p string
		v float64
	}{{"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}}
	for _, p := range prefixes {
		if abs >= p.v {
			return strconv.FormatFloat(f/p.v, 'g', 4, 64) + p.p
		}
	}
	if abs < 1e-3 {
		return strconv.FormatFloat(f*1e6, 'g', 4, 64) + "µ"
	}
	if abs < 1 {
		return strconv.FormatFloat(f*1e3, 'g', 4, 64) + "m"
	}
	return strconv.FormatFloat(f, 'g', 4, 64)
}

// HumanizeDuration prints seconds (a number) or a time.Duration as
// "1d 2h 3m 4s".
func HumanizeDuration(v any) string {
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	default:
		f, ok := toFloat(v)
		if !ok {
			return fmt.Sprint(v)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	d = d.Round(time.Second)
	var parts []string
	for _, u := range []struct {
		s string
		d time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if d >= u.d {
			parts = append(parts, strconv.FormatInt(int64(d/u.d), 10)+u.s)
			d %= u.d
		}
	}
	return strings.Join(parts, " ")
}

// Percent prints a fraction as a percentage with at most two decimals:
// 0.125 -> "12.5%", 0.1883408 -> "18.83%".
func Percent(v any) string {
	f, ok := toFloat(v)
	if !ok {
		return fmt.Sprint(v)
	}
	p := strconv.FormatFloat(f*100, 'f', 2, 64)
	if strings.Contains(p, ".") {
		p = strings.TrimSuffix(strings.TrimRight(p, "0"), ".")
	}
	if p == "-0" {
		p = "0"
	}
	return p + "%"
}

// JoinLabels prints labels as name="value" pairs in name order.
func JoinLabels(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + `="` + l[k] + `"`
	}
	return strings.Join(parts, ", ")
}

// Truncate cuts s to at most n characters (runes), ending with "…" when cut.
func Truncate(n int, s string) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func join(sep string, v any) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, sep)
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, sep)
	}
	return fmt.Sprint(v)
}

func title(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

func dflt(def string, v any) string {
	if v == nil {
		return def
	}
	if s := fmt.Sprint(v); s != "" && s != "<nil>" {
		return s
	}
	return def
}

func since(t time.Time) string { return HumanizeDuration(time.Since(t)) }

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case *float64:
		if x == nil {
			return 0, false
		}
		return *x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// Check parses a template text and renders it against sample alerts, so a
// template that cannot run (a bad function call, a field that does not
// exist) is reported before it is needed.
func Check(name, text string) error {
	return CheckWith(name, text, nil)
}

// CheckWith is Check with the configuration's named templates defined.
func CheckWith(name, text string, named map[string]string) error {
	t, err := ParseTextWith(name, text, named)
	if err != nil {
		return err
	}
	for _, a := range SampleAlerts() {
		var b strings.Builder
		if err := t.Execute(&b, AlertData(a)); err != nil {
			return err
		}
	}
	return nil
}

// SampleAlerts returns alerts that exercise templates: a firing rule alert
// with a threshold, and a pushed alert without one.
func SampleAlerts() []*alert.Alert {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	th := 0.05
	return []*alert.Alert{
		{
			ID: "sample-1", RuleID: "high_error_rate", RuleName: "High error rate", State: alert.StateActive,
			Severity: alert.Critical, Summary: "Error rate is 12%", Labels: alert.Labels{"alertname": "high_error_rate", "tool": "search"},
			Annotations: map[string]string{"runbook_url": "https://example.com/runbook"}, Value: 0.12, Threshold: &th,
			StartedAt: now, UpdatedAt: now, Sequence: 1,
		},
		{
			ID: "sample-2", State: alert.StateResolved, Severity: alert.Info, Source: "api",
			Labels: alert.Labels{"alertname": "disk_full", "host": "db1"}, StartedAt: now, UpdatedAt: now, Sequence: 3,
		},
	}
}
