package metric

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
)

// FuzzPush feeds outside input (metric name, one label, value) to Push: it
// must never panic, must fail only with the documented errors, and an
// accepted sample must be queryable with exactly its labels.
func FuzzPush(f *testing.F) {
	f.Add("request_latency", "tool", "search", 1.5)
	f.Add("a:b_c", "_x", "", -3.0)
	f.Add("9bad", "", "v", 0.0)
	f.Add("ok", "__name__", "\xff", math.NaN())
	f.Add("errors", "tool", "x", 1.0)
	f.Fuzz(func(t *testing.T, name, lname, lvalue string, v float64) {
		r := NewRegistry(&Options{NoRuntime: true, Now: func() time.Time { return t0 }})
		r.Counter(NameErrors, nil)
		labels := alert.Labels{lname: lvalue}
		err := r.Push(name, labels, v, t0)
		if err != nil {
			require.True(t, errors.Is(err, ErrInvalidName) || errors.Is(err, ErrInvalidLabel) ||
				errors.Is(err, ErrInvalidValue) || errors.Is(err, ErrKindConflict), "unexpected error %v", err)
			if name != NameErrors {
				require.Nil(t, r.family(name), "a rejected push must not create %q", name)
			}
			return
		}
		require.NoError(t, validName(name))
		require.NoError(t, validLabels(labels))
		m, merr := alert.NewMatcher(lname, alert.MatchEqual, lvalue)
		require.NoError(t, merr)
		res := r.Query(name, alert.Matchers{m}, Last, 0, t0)
		require.Len(t, res, 1)
		require.Equal(t, v, res[0].Value)
		require.Equal(t, labels, res[0].Labels)
	})
}
