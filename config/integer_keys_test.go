package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// uintChannel stands for a channel type from the registry with an unsigned
// key.
type uintChannel struct {
	Port uint `yaml:"port"`
}

// A negative number is refused for an unsigned key in any form: a whole
// negative float would otherwise wrap around to 18446744073709551615.
func TestParse_UnsignedKeyRefusesNegativeWholeFloats(t *testing.T) {
	t.Parallel()
	opts := fakeOpts(nil)
	opts.ChannelTypes["uintchan"] = ChannelType{NewConfig: func() any { return new(uintChannel) }}
	for _, v := range []string{"-1", "-1e+00", "-1.0"} {
		_, err := Parse("klaxon.yml", []byte("\nchannels:\n  ops:\n    type: uintchan\n    port: "+v+"\n"), opts)
		require.Error(t, err, v)
		require.Contains(t, err.Error(), `klaxon.yml:5:11: channels.ops.port: expected a non-negative integer, got "`+v+`"`)
	}
	cfg, err := Parse("klaxon.yml", []byte("\nchannels:\n  ops:\n    type: uintchan\n    port: 8.080e+3\n"), opts)
	require.NoError(t, err)
	require.Equal(t, uint(8080), cfg.Channels["ops"].Config.(*uintChannel).Port)
}

// Whether a number is whole is read from its digits, not from the float64
// it rounds to; a whole number must be below 2^53, where float64 is exact.
func TestParse_IntegerKeysReadWholenessFromTheDigits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		val  string
		want int // 0: refused
	}{
		{"1.00000000000000001", 0},
		{"4503599627370496.5", 0}, // 2^52 + 0.5
		{"9007199254740992.0", 0}, // 2^53
		{"9007199254740991.0", 9007199254740991},
		{"12.5e1", 125},
		{"1250e-1", 125},
		{"1251e-1", 0},
		{"-0.0", 0},
		{".inf", 0},
		{".nan", 0},
		{"1_000.0", 1000},
	} {
		cfg, err := Parse("klaxon.yml", []byte("\nhistory:\n  max_resolved: "+c.val+"\n"), fakeOpts(nil))
		if c.want == 0 && c.val != "-0.0" {
			require.Error(t, err, c.val)
			require.Contains(t, err.Error(), `klaxon.yml:3:17: history.max_resolved: expected an integer, got "`+c.val+`"`)
			continue
		}
		require.NoError(t, err, c.val)
		if c.want != 0 {
			require.Equal(t, c.want, cfg.History.MaxResolved, c.val)
		}
	}
}
