package notify

import (
	"cmp"
	"math/rand/v2"
	"time"
)

// RetryPolicy is a channel's retry budget and backoff. The zero value means
// the defaults documented on each field.
type RetryPolicy struct {
	// Timeout bounds one attempt; default 10s.
	Timeout time.Duration
	// InitialBackoff is the wait after the first failure; default 500ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the doubling backoff; default 1m.
	MaxBackoff time.Duration
	// MaxAge gives up (and fails over) once a notification is this old;
	// default 1h.
	MaxAge time.Duration
	// MaxAttempts gives up after this many attempts; 0 (default) means no
	// limit other than MaxAge.
	MaxAttempts int
	// Jitter spreads each backoff by +- this fraction; default 0.2. A
	// negative value disables jitter.
	Jitter float64
}

// WithDefaults fills zero fields with the defaults.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	p.Timeout = cmp.Or(p.Timeout, 10*time.Second)
	p.InitialBackoff = cmp.Or(p.InitialBackoff, 500*time.Millisecond)
	p.MaxBackoff = cmp.Or(p.MaxBackoff, time.Minute)
	p.MaxAge = cmp.Or(p.MaxAge, time.Hour)
	p.Jitter = cmp.Or(p.Jitter, 0.2)
	if p.Jitter < 0 {
		p.Jitter = 0
	}
	return p
}

// Backoff returns the wait after the given failed attempt (1 for the first):
// InitialBackoff doubled per attempt, capped at MaxBackoff, spread by Jitter.
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	if p.Jitter > 0 {
		f := 1 + p.Jitter*(2*rand.Float64()-1)
		d = time.Duration(float64(d) * f)
	}
	return d
}

// NextAttempt decides when to try again after a retryable failure of
// attempt number attempt of a notification created at created. It returns
// false when the budget is spent (too many attempts, or the next attempt
// would come after MaxAge). A RetryAfter wait replaces the backoff when it
// is longer.
func (p RetryPolicy) NextAttempt(err error, attempt int, created, now time.Time) (time.Time, bool) {
	wait := p.Backoff(attempt)
	if d, ok := RetryAfterOf(err); ok && d > wait {
		wait = d
	}
	if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
		return time.Time{}, false
	}
	next := now.Add(wait)
	if next.Sub(created) > p.MaxAge {
		return time.Time{}, false
	}
	return next, true
}
