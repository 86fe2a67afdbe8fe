package api

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// selfDecoding decodes itself, so the walk that finds array indices skips
// it; a type error inside it is then told with the decoder's own path.
type selfDecoding struct {
	Limit float64 `json:"limit"`
}

func (s *selfDecoding) UnmarshalJSON(b []byte) error {
	type plain selfDecoding
	return json.Unmarshal(b, (*plain)(s))
}

func TestDecode_TypeErrorInsideASelfDecodingType(t *testing.T) {
	t.Parallel()
	var v struct {
		Quota selfDecoding `json:"quota"`
	}
	err := unmarshal([]byte(`{"quota": {"limit": "ten"}}`), &v)
	var fe *fieldError
	require.True(t, errors.As(err, &fe), "%v", err)
	require.Equal(t, "quota.limit", fe.field)
	require.Equal(t, "want a number, got a string", fe.msg)
}
