package rowcodec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRoundTrips(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	require.True(t, FromNanos(Nanos(at)).Equal(at))
	require.Equal(t, time.UTC, FromNanos(Nanos(at)).Location())
	require.True(t, FromNanos(Nanos(time.Time{})).IsZero())
	require.Nil(t, FromPtrNanos(PtrNanos(nil)))
	require.True(t, FromPtrNanos(PtrNanos(&at)).Equal(at))

	s, err := JSONText(map[string]string(nil), "{}")
	require.NoError(t, err)
	require.Equal(t, "{}", s)
	var m map[string]string
	require.NoError(t, FromJSON(s, &m))
	require.Nil(t, m)
	s, err = JSONText(map[string]string{"a": "b"}, "{}")
	require.NoError(t, err)
	require.NoError(t, FromJSON(s, &m))
	require.Equal(t, map[string]string{"a": "b"}, m)
	require.ErrorContains(t, FromJSON("{bad", &m), "decode")
}
