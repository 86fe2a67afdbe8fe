package webhook

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// answer returns a handler writing code with optional headers and body.
func answer(code int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func TestChannel_Send_StatusClasses(t *testing.T) {
	t.Parallel()

	type class int
	const (
		success class = iota
		retryable
		permanent
		gone
	)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		// refused points the channel at a closed port.
		refused bool
		// timeout, when set, is the channel's attempt timeout and the
		// handler blocks until the client gives up.
		timeout    time.Duration
		want       class
		wantDetail string
		wantCode   int
		wantReason notify.Reason
		// wantAfter is the Retry-After wait; 0 means none.
		wantAfter time.Duration
		wantIs    error
		// wantMsg must appear in the error.
		wantMsg string
	}{
		// Plain success.
		{name: "200", handler: answer(200, "ok"), want: success, wantDetail: "200 OK", wantCode: 200},
		// Any 2xx is success; the detail is the status line.
		{name: "201", handler: answer(201, ""), want: success, wantDetail: "201 Created", wantCode: 201},
		// No body at all.
		{name: "204", handler: answer(204, ""), want: success, wantDetail: "204 No Content", wantCode: 204},
		// Redirects are not followed and never retried.
		{name: "301", handler: answer(301, "", "Location", "/elsewhere"), want: permanent, wantCode: 301,
			wantReason: notify.ReasonClientError, wantIs: ErrRedirect, wantMsg: "status 301: redirects are not followed"},
		// A rejected payload: permanent, the answer goes into the error.
		{name: "400", handler: answer(400, "missing field: text\n"), want: permanent, wantCode: 400,
			wantReason: notify.ReasonClientError, wantMsg: "status 400: missing field: text"},
		// Bad credentials will not fix themselves.
		{name: "401", handler: answer(401, "unauthorized"), want: permanent, wantCode: 401, wantReason: notify.ReasonClientError},
		// A wrong path.
		{name: "404", handler: answer(404, "no such hook"), want: permanent, wantCode: 404, wantReason: notify.ReasonClientError},
		// Request Timeout is the receiver asking for a retry.
		{name: "408", handler: answer(408, ""), want: retryable, wantCode: 408, wantReason: notify.ReasonTimeout},
		// Gone disables the endpoint.
		{name: "410", handler: answer(410, "hook deleted"), want: gone, wantCode: 410, wantReason: notify.ReasonGone},
		// Rate limited without a hint: retry on the backoff schedule.
		{name: "429", handler: answer(429, ""), want: retryable, wantCode: 429, wantReason: notify.ReasonRateLimited},
		// Rate limited with delta seconds.
		{name: "429 retry-after seconds", handler: answer(429, "", "Retry-After", "7"), want: retryable, wantCode: 429,
			wantReason: notify.ReasonRateLimited, wantAfter: 7 * time.Second},
		// Rate limited with an HTTP date, read against the channel's clock.
		{name: "429 retry-after date", handler: answer(429, "", "Retry-After", t0.Add(30*time.Second).Format(http.TimeFormat)),
			want: retryable, wantCode: 429, wantReason: notify.ReasonRateLimited, wantAfter: 30 * time.Second},
		// Server errors are retried.
		{name: "500", handler: answer(500, "boom"), want: retryable, wantCode: 500, wantReason: notify.ReasonServerError,
			wantMsg: "status 500: boom"},
		// A proxy in front of the receiver failed.
		{name: "502", handler: answer(502, ""), want: retryable, wantCode: 502, wantReason: notify.ReasonServerError},
		// Unavailable with Retry-After: wait as asked.
		{name: "503 retry-after", handler: answer(503, "", "Retry-After", "120"), want: retryable, wantCode: 503,
			wantReason: notify.ReasonServerError, wantAfter: 2 * time.Minute},
		// The receiver is too slow: the attempt's timeout, retryable.
		{name: "timeout", timeout: 50 * time.Millisecond, want: retryable, wantReason: notify.ReasonTimeout,
			wantIs: ErrTimeout, wantMsg: "attempt timed out after 50ms"},
		// Nobody listens: a connection error, retryable.
		{name: "connection refused", refused: true, want: retryable, wantReason: notify.ReasonConnection,
			wantMsg: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var redirected atomic.Int32
			handler := tt.handler
			if tt.timeout > 0 {
				release := make(chan struct{})
				handler = func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-release:
					}
				}
				defer close(release)
			}
			rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					redirected.Add(1)
				}
				handler(w, r)
			})
			url := rcv.URL + "/hook"
			if tt.refused {
				rcv.Close()
			}
			ch := newChannel(t, Config{URL: secret.New(url), Timeout: tt.timeout}, fixedClock(t0))

			receipt, err := ch.Send(t.Context(), activeNotification())
			if tt.want == success {
				require.NoError(t, err)
				require.Equal(t, notify.Receipt{StatusCode: tt.wantCode, Detail: tt.wantDetail}, receipt)
				return
			}
			require.Error(t, err)
			require.Equal(t, notify.Receipt{}, receipt)
			require.Equal(t, tt.want == permanent || tt.want == gone, notify.IsPermanent(err), "permanent: %v", err)
			require.Equal(t, tt.want == gone, notify.IsGone(err), "gone: %v", err)
			require.Equal(t, tt.wantCode, notify.StatusCodeOf(err))
			require.Equal(t, tt.wantReason, notify.ReasonOf(err), "reason of %v", err)
			after, ok := notify.RetryAfterOf(err)
			require.Equal(t, tt.wantAfter != 0, ok, "retry-after: %v", err)
			require.Equal(t, tt.wantAfter, after)
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs)
			}
			require.Contains(t, err.Error(), tt.wantMsg)
			require.Contains(t, err.Error(), "webhook", "errors name the channel type")
			require.Zero(t, redirected.Load(), "redirects are not followed")
		})
	}
}

func TestChannel_Send_TimeoutMatchesDeadline(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rcv := newReceiver(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ch := newChannel(t, Config{URL: secret.New(rcv.URL), Timeout: 20 * time.Millisecond})
	_, err := ch.Send(t.Context(), activeNotification())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrTimeout)
	var ne interface{ Timeout() bool }
	require.True(t, errors.As(err, &ne) && ne.Timeout())
}

func TestChannel_Send_LargeAnswerIsBounded(t *testing.T) {
	t.Parallel()
	big := make([]byte, 10<<10)
	for i := range big {
		big[i] = 'x'
	}
	rcv := newReceiver(t, answer(500, string(big)))
	ch := newChannel(t, Config{URL: secret.New(rcv.URL)})
	_, err := ch.Send(t.Context(), activeNotification())
	var serr *notify.StatusError
	require.ErrorAs(t, err, &serr)
	require.Len(t, serr.Body, maxAnswer, "at most 1 KiB of the answer is kept")
}

func TestWithHTTPClient_NeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	var redirected atomic.Int32
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			redirected.Add(1)
			return
		}
		http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
	})
	client := &http.Client{} // follows redirects by default
	ch := newChannel(t, Config{URL: secret.New(rcv.URL + "/start")}, WithHTTPClient(client))
	_, err := ch.Send(t.Context(), activeNotification())
	require.ErrorIs(t, err, ErrRedirect)
	require.True(t, notify.IsPermanent(err))
	require.Zero(t, redirected.Load())
	require.Nil(t, client.CheckRedirect, "the caller's client is not changed")
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWithTransport(t *testing.T) {
	t.Parallel()
	var got *http.Request
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: 200, Status: "200 OK", Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	ch := newChannel(t, Config{URL: secret.New("https://hooks.example.com/x")}, WithTransport(rt))
	receipt, err := ch.Send(t.Context(), activeNotification())
	require.NoError(t, err)
	require.Equal(t, "200 OK", receipt.Detail)
	require.Equal(t, "hooks.example.com", got.URL.Host)
}
