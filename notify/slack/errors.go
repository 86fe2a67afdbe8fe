package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// ErrTimeout is the cause of a Send that ran past Config.Timeout. It wraps
// context.DeadlineExceeded.
var ErrTimeout = fmt.Errorf("slack send timed out: %w", context.DeadlineExceeded)

// APIError is Slack's answer to a failed call: a Web API `ok:false` error
// code, or an incoming webhook's non-200 status with its short text code.
type APIError struct {
	// Method is the Web API method ("chat.postMessage", "chat.update") or
	// "webhook".
	Method string
	// Code is Slack's error code ("invalid_auth", "channel_not_found",
	// "no_service"); empty when the answer had none.
	Code string
	// StatusCode is the HTTP status; 200 for Web API `ok:false` answers.
	StatusCode int
	err        error
}

// Error returns "METHOD: CODE (status N)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteString(": ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString(http.StatusText(e.StatusCode))
	}
	if e.StatusCode != http.StatusOK {
		b.WriteString(" (status ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the HTTP status as a *notify.StatusError (so
// notify.ReasonOf labels it) or the library's error.
func (e *APIError) Unwrap() error { return e.err }

// ErrorCode returns the Slack error code carried by err, or "".
func ErrorCode(err error) string {
	if ae, ok := errors.AsType[*APIError](err); ok {
		return ae.Code
	}
	return ""
}

// retryableCodes are Web API error codes worth retrying: Slack-side trouble.
// Slack warns that internal_error and fatal_error may have partly succeeded,
// so a retried post can duplicate a message.
var retryableCodes = map[string]bool{
	"internal_error":      true,
	"fatal_error":         true,
	"request_timeout":     true,
	"service_unavailable": true,
	"rollup_error":        true,
}

// rateLimitCodes are Web API error codes that mean "slow down".
var rateLimitCodes = map[string]bool{"ratelimited": true, "rate_limited": true}

// classifyAPI maps an error from the slack-go client to klaxon's classes
// (invariant 3): ok:false codes are permanent unless Slack-side or rate
// limits; 429 honours Retry-After; 5xx and network errors are retryable.
// resp is what the transport saw for this call.
func classifyAPI(method string, err error, resp *respInfo, now time.Time) error {
	if err == nil {
		return nil
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		ae := &APIError{Method: method, Code: "ratelimited", StatusCode: http.StatusTooManyRequests,
			err: &notify.StatusError{Code: http.StatusTooManyRequests, Body: "ratelimited"}}
		return notify.RetryAfter(rl.RetryAfter, ae)
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		status := cmp0(resp.status, http.StatusOK)
		ae := &APIError{Method: method, Code: se.Err, StatusCode: status, err: se}
		if status != http.StatusOK {
			ae.err = &notify.StatusError{Code: status, Body: se.Err}
		}
		switch {
		case rateLimitCodes[se.Err]:
			if d, ok := notify.ParseRetryAfter(resp.retryAfter, now); ok {
				return notify.RetryAfter(d, ae)
			}
			return ae
		case retryableCodes[se.Err]:
			return ae
		default:
			return notify.Permanent(ae)
		}
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return classifyStatus(method, sc.Code, "", resp.retryAfter, now)
	}
	if resp.status == http.StatusTooManyRequests {
		// Retry-After was not a whole number of seconds, so slack-go failed
		// to parse it; read it ourselves.
		return classifyStatus(method, resp.status, "", resp.retryAfter, now)
	}
	return transportError(method, err, false)
}

// classifyStatus maps a non-200 HTTP answer (webhook mode, or a Web API
// status without an ok:false body). code is Slack's short text code, if any.
func classifyStatus(method string, status int, code, retryAfter string, now time.Time) error {
	ae := &APIError{Method: method, Code: code, StatusCode: status,
		err: &notify.StatusError{Code: status, Body: code}}
	switch {
	case status == http.StatusGone:
		return notify.Gone(ae)
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		if d, ok := notify.ParseRetryAfter(retryAfter, now); ok {
			return notify.RetryAfter(d, ae)
		}
		return ae
	case status == http.StatusRequestTimeout || status >= 500:
		return ae
	default:
		return notify.Permanent(ae)
	}
}

// transportError wraps a network or context error, which is retryable. With
// redactURL the URL in a *url.Error is dropped: a webhook URL is a secret.
func transportError(method string, err error, redactURL bool) error {
	if ue, ok := errors.AsType[*url.Error](err); ok && redactURL {
		err = &url.Error{Op: ue.Op, URL: secret.Redacted, Err: ue.Err}
	}
	return &callError{method: method, err: err}
}

// callError is a failed call that got no answer from Slack.
type callError struct {
	method string
	err    error
}

func (e *callError) Error() string { return e.method + ": " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// redactedError carries a message scrubbed of the channel's secrets, as a
// last line of defence (the chain below it already carries none). It keeps
// only the scrubbed text, so even %#v of the error shows no secret.
type redactedError struct {
	msg string
	err error
}

func redact(err error, secrets ...secret.String) error {
	msg := err.Error()
	for _, sec := range secrets {
		msg = sec.Scrub(msg)
	}
	return &redactedError{msg: msg, err: err}
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// withDeadlineCause adds ErrTimeout to an error caused by our own deadline,
// so the delivery log tells "Slack too slow" from "shutting down".
func withDeadlineCause(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) && !errors.Is(err, ErrTimeout) {
		return &timeoutError{err: err}
	}
	return err
}

// timeoutError marks err as caused by Config.Timeout.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string   { return e.err.Error() + " (" + ErrTimeout.Error() + ")" }
func (e *timeoutError) Unwrap() []error { return []error{e.err, ErrTimeout} }

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
