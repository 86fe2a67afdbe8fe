package alert

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity ranks how urgent an alert is. Higher values are more urgent, so
// severities compare with the ordinary operators: Critical > High > ... > Info.
// The zero value is not a valid severity; ParseSeverity never returns it.
type Severity int

// Severities, from least to most urgent.
const (
	Info Severity = iota + 1
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"", "info", "low", "medium", "high", "critical"}

// Severities lists every valid severity from most to least urgent.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// ParseSeverity reads a severity name, case-insensitively. "warning" is
// accepted as an alias of medium and "error" of high, because Alertmanager and
// PagerDuty users write them.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit":
		return Critical, nil
	case "high", "error":
		return High, nil
	case "medium", "warning", "warn":
		return Medium, nil
	case "low":
		return Low, nil
	case "info", "informational":
		return Info, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", s)
}

// Valid reports whether s is one of the five defined severities.
func (s Severity) Valid() bool { return s >= Info && s <= Critical }

// String returns the lower-case name ("critical"), or "severity(N)" for an
// invalid value.
func (s Severity) String() string {
	if s.Valid() {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity by name.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

var _ json.Marshaler = Severity(0)

// MarshalJSON encodes the severity as its name.
func (s Severity) MarshalJSON() ([]byte, error) {
	b, err := s.MarshalText()
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON decodes a severity name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("severity must be a string: %w", err)
	}
	return s.UnmarshalText([]byte(str))
}
