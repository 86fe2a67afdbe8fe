package notify

import "github.com/klaxonhq/klaxon/internal/jsonenc"

// AppendJSON appends the event's JSON encoding to dst: the alert's fields
// (AppendJSON's, promoted from the embedded *alert.Alert) followed by
// previous_state, which is where encoding/json puts an outer field after an
// embedded struct's. With a nil Alert, encoding/json skips the promoted
// fields, and so does this: {"previous_state":"..."}. It is written by hand
// because every notification encodes its alerts and reflection was a
// visible share of the CPU. On failure (see alert.Alert.AppendJSON) it
// returns dst as it was.
//
// AlertEvent has no MarshalJSON on purpose: encoding/json re-scans and
// compacts whatever a MarshalJSON returns, and that pass alone costs more
// than encoding the event by reflection (BenchmarkAlertEventJSONMarshal
// against BenchmarkAlertEventJSONViaMarshaler), so json.Marshal of events
// would get slower, not faster. Hot paths call AppendJSON directly.
func (e *AlertEvent) AppendJSON(dst []byte) ([]byte, error) {
	b := dst
	if e.Alert == nil {
		b = append(b, '{')
	} else {
		var err error
		if b, err = e.Alert.AppendJSON(b); err != nil {
			return dst, err
		}
		// A non-nil alert is an object with fields: reopen it.
		b[len(b)-1] = ','
	}
	b = append(b, `"previous_state":`...)
	b = jsonenc.AppendString(b, string(e.PreviousState))
	return append(b, '}'), nil
}
