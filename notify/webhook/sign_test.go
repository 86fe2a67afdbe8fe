package webhook

import (
	"net/http"
	"testing"
)

func TestCanonicalHeaderNames(t *testing.T) {
	for name, canonical := range map[string]string{
		HeaderID: canonicalID, HeaderTimestamp: canonicalTimestamp, HeaderSignature: canonicalSignature,
	} {
		if got := http.CanonicalHeaderKey(name); got != canonical {
			t.Errorf("CanonicalHeaderKey(%q) = %q, the constant says %q", name, got, canonical)
		}
	}
}
