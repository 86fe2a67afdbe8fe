package config

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimalYAML))
	f.Add([]byte("a: &a [*a]\nserver: *a\n"))
	f.Add([]byte("x-a: &a {type: console}\nchannels: {c: *a, d: {<<: *a, color: true}}\n"))
	f.Add([]byte("rules:\n  - {id: x, metric: m, operator: '>', threshold: 1, for: 1d}\n"))
	f.Add([]byte("routes:\n  - match: {severity: '>= high', label_matchers: ['a=~b']}\n    notify: x\n"))
	f.Add([]byte("server: {listen: '${X:-0.0.0.0:1}', api_token: $$}\n"))
	f.Add([]byte("scrape:\n  - {url: 'http://h:1/m?t=x', interval: 5s, timeout: 9s, labels: {__a: b}, metrics: ['a:b']}\n  - url: http://h:1/n\n  -\n"))
	f.Add([]byte("server: {advertise_url: 'http://u:p@h'}\n"))
	f.Add([]byte("\t"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yml", data, fakeOpts(map[string]string{"X": "1"}))
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		var probs Problems
		if !errors.As(err, &probs) {
			t.Fatalf("error %T is not Problems: %v", err, err)
		}
		if len(probs) == 0 {
			t.Fatal("empty Problems")
		}
		hasLines := len(bytes.TrimSpace(data)) > 0
		for _, p := range probs {
			if hasLines && p.Line < 1 {
				t.Fatalf("problem without a line: %+v", p)
			}
			if p.Msg == "" {
				t.Fatalf("problem without a message: %+v", p)
			}
		}
	})
}

func BenchmarkParse_Minimal(b *testing.B) {
	opts := fakeOpts(nil)
	data := []byte(minimalYAML)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("klaxon.yml", data, opts); err != nil {
			b.Fatal(err)
		}
	}
}
