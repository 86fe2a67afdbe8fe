package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestString_NeverPrintsItsValue(t *testing.T) {
	t.Parallel()
	s := New("xoxb-super-secret")
	holder := struct {
		Token String `json:"token"`
	}{s}
	var outs []string
	outs = append(outs, s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, holder, holder, s, s))
	b, err := json.Marshal(holder)
	require.NoError(t, err)
	outs = append(outs, string(b))
	txt, err := s.MarshalText()
	require.NoError(t, err)
	outs = append(outs, string(txt))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", s, "holder", holder)
	outs = append(outs, buf.String())
	for _, o := range outs {
		require.NotContains(t, o, "super-secret")
	}
	var back map[string]string
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, Redacted, back["token"])
	require.Equal(t, "xoxb-super-secret", s.Reveal())
}

func TestString_EmptyAndDecode(t *testing.T) {
	t.Parallel()
	require.Equal(t, "", String{}.String(), "an empty secret shows that nothing is set")
	require.True(t, String{}.IsZero())
	var v struct {
		Key String `yaml:"key"`
	}
	require.NoError(t, yaml.Unmarshal([]byte("key: abc123"), &v))
	require.Equal(t, "abc123", v.Key.Reveal())
	var j struct {
		Key String `json:"key"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"key":"k-1"}`), &j))
	require.Equal(t, "k-1", j.Key.Reveal())
}

func TestString_Scrub(t *testing.T) {
	t.Parallel()
	s := New("https://hooks.example.com/T000/B000/XXXXSECRET")
	msg := `Post "https://hooks.example.com/T000/B000/XXXXSECRET": dial tcp: refused`
	require.Equal(t, `Post "`+Redacted+`": dial tcp: refused`, s.Scrub(msg))
	require.Equal(t, "abc", New("ab").Scrub("abc"), "very short secrets are not scrubbed (they would mangle text)")
}
