package notify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying (a 4xx, an invalid token, a
// rejected recipient): the dispatcher fails over at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or anything it wraps, was marked Permanent
// or Gone.
func IsPermanent(err error) bool {
	var p *permanentError
	var g *goneError
	return errors.As(err, &p) || errors.As(err, &g)
}

// retryAfterError carries the receiver's requested wait.
type retryAfterError struct {
	after time.Duration
	err   error
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err as retryable no sooner than d (a 429 or 503 with
// Retry-After, Slack's ratelimited). The dispatcher waits at least d instead
// of the backoff when d is longer. The answer counts as an attempt (toward
// RetryPolicy.MaxAttempts and the backoff's doubling), and the wait counts
// toward MaxAge: a receiver that keeps pacing a notification past its
// budget hands it to the failover chain.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{after: d, err: err}
}

// RetryAfterOf returns the wait requested through RetryAfter.
func RetryAfterOf(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// goneError marks a destination that no longer exists (webhook 410).
type goneError struct{ err error }

func (e *goneError) Error() string { return e.err.Error() }
func (e *goneError) Unwrap() error { return e.err }

// Gone marks err as "the endpoint is gone": permanent, and the dispatcher
// disables the channel and raises a self-alert.
func Gone(err error) error {
	if err == nil {
		return nil
	}
	return &goneError{err: err}
}

// IsGone reports whether err was marked Gone.
func IsGone(err error) bool {
	var g *goneError
	return errors.As(err, &g)
}

// StatusError is a receiver's non-success answer. Channels wrap it in
// Permanent or RetryAfter as the status demands.
type StatusError struct {
	Code int
	// Body is the start of the answer, secret-free, for the delivery log.
	Body string
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return "status " + strconv.Itoa(e.Code)
	}
	return "status " + strconv.Itoa(e.Code) + ": " + e.Body
}

// StatusCodeOf returns the status code carried by err, or 0.
func StatusCodeOf(err error) int {
	var s *StatusError
	if errors.As(err, &s) {
		return s.Code
	}
	return 0
}

// Reason is a bounded label for why a send failed, used in metrics and the
// delivery log.
type Reason string

// Failure reasons.
const (
	ReasonNone        Reason = ""
	ReasonClientError Reason = "client_error"
	ReasonServerError Reason = "server_error"
	ReasonRateLimited Reason = "rate_limited"
	ReasonTimeout     Reason = "timeout"
	ReasonConnection  Reason = "connection"
	ReasonGone        Reason = "gone"
	ReasonCanceled    Reason = "canceled"
	ReasonCircuitOpen Reason = "circuit_open"
	ReasonOther       Reason = "other"
)

// ReasonOf classifies err for metrics and the log.
func ReasonOf(err error) Reason {
	if err == nil {
		return ReasonNone
	}
	if IsGone(err) {
		return ReasonGone
	}
	if code := StatusCodeOf(err); code != 0 {
		switch {
		case code == http.StatusTooManyRequests:
			return ReasonRateLimited
		case code == http.StatusRequestTimeout:
			return ReasonTimeout
		case code >= 500 && code < 600:
			return ReasonServerError
		case code >= 400 && code < 500:
			return ReasonClientError
		}
	}
	if _, ok := RetryAfterOf(err); ok {
		return ReasonRateLimited
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ReasonTimeout
	}
	if errors.Is(err, context.Canceled) {
		return ReasonCanceled
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return ReasonTimeout
		}
		return ReasonConnection
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return ReasonConnection
	}
	if IsPermanent(err) {
		return ReasonClientError
	}
	return ReasonOther
}

// CheckHTTPStatus maps an HTTP answer to klaxon's error classes (invariant 3):
// 2xx is success (nil); 408 and 5xx are retryable; 429 and 503 honour
// Retry-After; 410 is Gone; any other status is permanent. body is the start
// of the answer (already read and secret-free); now is used to read an
// HTTP-date Retry-After.
func CheckHTTPStatus(resp *http.Response, body string, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	serr := &StatusError{Code: code, Body: strings.TrimSpace(body)}
	switch {
	case code == http.StatusGone:
		return Gone(serr)
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return RetryAfter(d, serr)
		}
		return serr
	case code == http.StatusRequestTimeout || code >= 500:
		return serr
	default:
		return Permanent(serr)
	}
}

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
// Waits are capped at one hour.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) {
			return 0, false
		}
		// Capped before the conversion, which overflows past ~292 years.
		d = time.Duration(min(secs, time.Hour.Seconds()) * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
		if d < 0 {
			d = 0
		}
	} else {
		return 0, false
	}
	return min(d, time.Hour), true
}

// ErrCircuitOpen is returned (wrapped) when a channel's circuit breaker is
// open and the dispatcher did not try to send.
var ErrCircuitOpen = errors.New("circuit open")

// Describe renders err for logs and the delivery log: its message with its
// class ("permanent: status 400: bad request").
func Describe(err error) string {
	if err == nil {
		return ""
	}
	switch {
	case IsGone(err):
		return "gone: " + err.Error()
	case IsPermanent(err):
		return "permanent: " + err.Error()
	}
	if d, ok := RetryAfterOf(err); ok {
		return fmt.Sprintf("retry after %s: %s", d, err)
	}
	return "retryable: " + err.Error()
}

// TransportError is a request that got no answer (DNS, connection refused
// or reset, TLS). It is retryable. Channels build it with a message that is
// already free of secrets (and without the *url.Error wrapper, which quotes
// the URL) and the network error it unwraps to.
type TransportError struct {
	Msg string
	Err error
}

// Error returns the scrubbed message.
func (e *TransportError) Error() string { return e.Msg }

// Unwrap returns the underlying network error.
func (e *TransportError) Unwrap() error { return e.Err }

// Timeout reports whether the network error was a timeout.
func (e *TransportError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

// Temporary is part of net.Error; it is deprecated there and always false
// here.
func (e *TransportError) Temporary() bool { return false }
