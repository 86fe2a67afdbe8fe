package alert

import (
	"encoding/json"
	"reflect"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon/internal/jsonenc"
)

// AppendJSON appends a's JSON encoding to dst and returns the extended
// buffer: exactly the bytes json.Marshal(a) produces (same fields, order,
// omitempty rules, escaping and number and time formats; the tests compare
// the two). It exists because every notification encodes its alert and
// encoding/json's reflection was a visible share of the CPU. It fails where
// json.Marshal fails (an invalid severity, NaN or an infinite value or
// threshold, a time RFC 3339 cannot express), and then returns dst as it
// was.
//
// Alert deliberately has no MarshalJSON: notify.AlertEvent embeds *Alert,
// and a promoted MarshalJSON would replace the event's own encoding and
// drop its previous_state.
func (a *Alert) AppendJSON(dst []byte) ([]byte, error) {
	if a == nil {
		return append(dst, "null"...), nil
	}
	b, err := a.appendJSON(dst)
	if err != nil {
		return dst, err
	}
	return b, nil
}

// appendJSON writes the fields in declaration order, as encoding/json does;
// a change to Alert's fields must be mirrored here (TestAlertJSONFields
// fails until it is).
func (a *Alert) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = jsonenc.AppendString(b, a.ID)
	b = append(b, `,"fingerprint":`...)
	b = jsonenc.AppendString(b, string(a.Fingerprint))
	b = append(b, `,"rule_id":`...)
	b = jsonenc.AppendString(b, a.RuleID)
	if a.RuleName != "" {
		b = append(b, `,"rule_name":`...)
		b = jsonenc.AppendString(b, a.RuleName)
	}
	b = append(b, `,"state":`...)
	b = jsonenc.AppendString(b, string(a.State))
	b = append(b, `,"severity":`...)
	if b, err = appendSeverity(b, a.Severity); err != nil {
		return nil, err
	}
	b = append(b, `,"summary":`...)
	b = jsonenc.AppendString(b, a.Summary)
	b = append(b, `,"description":`...)
	b = jsonenc.AppendString(b, a.Description)
	b = append(b, `,"labels":`...)
	b = jsonenc.AppendStringMap(b, a.Labels)
	b = append(b, `,"annotations":`...)
	b = jsonenc.AppendStringMap(b, a.Annotations)
	b = append(b, `,"value":`...)
	if b, err = jsonenc.AppendFloat(b, a.Value); err != nil {
		return nil, err
	}
	b = append(b, `,"threshold":`...)
	if a.Threshold == nil {
		b = append(b, "null"...)
	} else if b, err = jsonenc.AppendFloat(b, *a.Threshold); err != nil {
		return nil, err
	}
	if a.Source != "" {
		b = append(b, `,"source":`...)
		b = jsonenc.AppendString(b, a.Source)
	}
	if len(a.Metadata) > 0 { // omitempty omits an empty map as well as nil
		b = append(b, `,"metadata":`...)
		b = jsonenc.AppendStringMap(b, a.Metadata)
	}
	b = append(b, `,"started_at":`...)
	if b, err = jsonenc.AppendTime(b, a.StartedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = jsonenc.AppendTime(b, a.UpdatedAt); err != nil {
		return nil, err
	}
	if b, err = appendTimePtr(b, `,"active_at":`, a.ActiveAt, true); err != nil {
		return nil, err
	}
	if b, err = appendTimePtr(b, `,"acknowledged_at":`, a.AcknowledgedAt, false); err != nil {
		return nil, err
	}
	b = append(b, `,"acknowledged_by":`...)
	b = jsonenc.AppendString(b, a.AcknowledgedBy)
	if a.AckComment != "" {
		b = append(b, `,"ack_comment":`...)
		b = jsonenc.AppendString(b, a.AckComment)
	}
	if b, err = appendTimePtr(b, `,"resolved_at":`, a.ResolvedAt, false); err != nil {
		return nil, err
	}
	if b, err = appendTimePtr(b, `,"ends_at":`, a.EndsAt, true); err != nil {
		return nil, err
	}
	if a.SilencedBy != "" {
		b = append(b, `,"silenced_by":`...)
		b = jsonenc.AppendString(b, a.SilencedBy)
	}
	if b, err = appendTimePtr(b, `,"last_notified_at":`, a.LastNotifiedAt, true); err != nil {
		return nil, err
	}
	if len(a.Channels) > 0 { // omitempty omits an empty slice as well as nil
		b = append(b, `,"channels":`...)
		b = jsonenc.AppendStrings(b, a.Channels)
	}
	if a.EscalationLevel != 0 {
		b = append(b, `,"escalation_level":`...)
		b = strconv.AppendInt(b, int64(a.EscalationLevel), 10)
	}
	b = append(b, `,"sequence":`...)
	b = strconv.AppendInt(b, a.Sequence, 10)
	return append(b, '}'), nil
}

// appendTimePtr writes key and the time, or null when t is nil; with
// omitEmpty a nil t writes nothing. A non-nil zero time is not empty.
func appendTimePtr(b []byte, key string, t *time.Time, omitEmpty bool) ([]byte, error) {
	if t == nil && omitEmpty {
		return b, nil
	}
	return jsonenc.AppendTimePtr(append(b, key...), t)
}

// severityType is what encoding/json names when Severity.MarshalJSON fails.
var severityType = reflect.TypeFor[Severity]()

// appendSeverity writes what Severity.MarshalJSON returns (the quoted name)
// without its allocations, and fails with the error json.Marshal reports
// for an invalid severity.
func appendSeverity(b []byte, s Severity) ([]byte, error) {
	if !s.Valid() {
		_, err := s.MarshalJSON()
		return nil, &json.MarshalerError{Type: severityType, Err: err}
	}
	return jsonenc.AppendString(b, severityNames[s]), nil
}
