package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A value of the wrong JSON kind gets a 400 that names the field by its
// full path in the body (with array indices, as the API's other field
// errors) and says, in JSON terms, what was wanted and what came: never a
// Go type.
func TestAPI_TypeErrorsNameTheFieldInJSONTerms(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	tests := []struct {
		path, body, field, msg string
	}{
		{"/api/v1/metrics", `[{"name":"x","value":"0.5"}]`, "[0].value", "want a number, got a string"},
		{"/api/v1/metrics", `[{"name":"a","value":1},{"name":"b","value":true}]`, "[1].value", "want a number, got true"},
		{"/api/v1/metrics", `[{"name":"x","value":1e999}]`, "[0].value", "want a number, got 1e999, which is out of range"},
		{"/api/v1/metrics", `[{"name":"x","value":1,"labels":{"a":"b","c":2}}]`, "[0].labels.c", "want a string, got a number"},
		{"/api/v1/metrics", `[{"name":"x","Value":"1"}]`, "[0].value", "want a number, got a string"},
		{"/api/v1/metrics", `{"name":"x","value":1}`, "body", "want an array, got an object"},
		{"/api/v1/alerts", `[{"labels":"x"}]`, "[0].labels", "want an object, got a string"},
		{"/api/v1/alerts", `[{"labels":{"a":"b"}},{"labels":{"a":"b"},"annotations":[]}]`, "[1].annotations", "want an object, got an array"},
		{"/api/v1/alerts", `["x"]`, "[0]", "want an object, got a string"},
		{"/api/v1/alerts", `[{"labels":{"a":"b"},"summary":false}]`, "[0].summary", "want a string, got false"},
		{"/api/v1/silences", `{"matchers":[{"name":"a","value":"b"},{"name":"c","value":1}],"duration":"1h"}`,
			"matchers[1].value", "want a string, got a number"},
		{"/api/v1/silences", `{"matchers":[{"name":"a","value":"b","is_regex":"yes"}],"duration":"1h"}`,
			"matchers[0].is_regex", "want true or false, got a string"},
		{"/api/v1/silences", `{"matchers":{},"duration":"1h"}`, "matchers", "want an array, got an object"},
		{"/api/v1/silences", `{"matchers":[{"name":"a","value":"b"}],"duration":3600}`, "duration", "want a string, got a number"},
		{"/api/v1/alerts/x/ack", `{"by":["alice"]}`, "by", "want a string, got an array"},
		{"/api/v1/alerts/x/resolve", `{"comment":{}}`, "comment", "want a string, got an object"},
	}
	for _, tc := range tests {
		t.Run(tc.path+" "+tc.body, func(t *testing.T) {
			resp, raw := b.send(t, "POST", tc.path, tc.body, map[string]string{"Content-Type": "application/json"})
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, raw)
			require.Equal(t, map[string]any{"field": tc.field, "error": tc.msg}, jsonBody(t, resp, raw))
		})
	}
}

// The other ways a body can be wrong keep their answers.
func TestAPI_MalformedBodies(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	tests := []struct {
		body, field, msg string
	}{
		{``, "body", "request body is empty"},
		{" \n\t ", "body", "request body is empty"},
		{`[{"name":"x","value":1}`, "body", "invalid JSON: the body ends inside a value"},
		{`[{"name":"x","value":1,}]`, "body", "invalid JSON at byte 24: invalid character '}' looking for beginning of object key string"},
		{`[{"name":"x","value":1,"vlaue":2}]`, "vlaue", "unknown field"},
		{`[] []`, "body", "unexpected data after the JSON value"},
		{`[] ]`, "body", "unexpected data after the JSON value"},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			resp, raw := b.send(t, "POST", "/api/v1/metrics", tc.body, nil)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, raw)
			require.Equal(t, map[string]any{"field": tc.field, "error": tc.msg}, jsonBody(t, resp, raw))
		})
	}
	b.metrics.mu.Lock()
	defer b.metrics.mu.Unlock()
	require.Empty(t, b.metrics.samples)
}
