package slack

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

// answer is what a fake Slack endpoint replies.
type answer struct {
	status     int
	retryAfter string
	body       string
}

func (a answer) serve(w http.ResponseWriter, _ *http.Request) {
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	if strings.HasPrefix(a.body, "{") {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(a.body))
}

// wantClass is the expected classification of an error.
type wantClass struct {
	permanent  bool
	gone       bool
	retryAfter time.Duration // 0: no RetryAfter
	code       string
	reason     notify.Reason
}

func requireClass(t *testing.T, err error, want wantClass) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want.permanent, notify.IsPermanent(err), "permanent: %v", err)
	require.Equal(t, want.gone, notify.IsGone(err), "gone: %v", err)
	d, ok := notify.RetryAfterOf(err)
	require.Equal(t, want.retryAfter != 0, ok, "retry after: %v", err)
	require.Equal(t, want.retryAfter, d)
	require.Equal(t, want.code, ErrorCode(err))
	if want.reason != "" {
		require.Equal(t, want.reason, notify.ReasonOf(err), "reason of %v", err)
	}
	require.NotContains(t, err.Error(), testToken)
}

func TestChannel_Send_WebAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer answer
		want   wantClass
	}{
		// Slack answers most failures with 200 and ok:false.
		{"invalid_auth", answer{200, "", `{"ok":false,"error":"invalid_auth"}`},
			wantClass{permanent: true, code: "invalid_auth", reason: notify.ReasonClientError}},
		// The channel does not exist (or the bot cannot see it).
		{"channel_not_found", answer{200, "", `{"ok":false,"error":"channel_not_found"}`},
			wantClass{permanent: true, code: "channel_not_found"}},
		// The bot was not invited.
		{"not_in_channel", answer{200, "", `{"ok":false,"error":"not_in_channel"}`},
			wantClass{permanent: true, code: "not_in_channel"}},
		// A scope is missing from the token.
		{"missing_scope", answer{200, "", `{"ok":false,"error":"missing_scope","needed":"chat:write"}`},
			wantClass{permanent: true, code: "missing_scope"}},
		// Rate limit: 429 with Retry-After, as Slack sends it.
		{"ratelimited 429", answer{429, "3", `{"ok":false,"error":"ratelimited"}`},
			wantClass{retryAfter: 3 * time.Second, code: "ratelimited", reason: notify.ReasonRateLimited}},
		// Rate limit reported in the body of a 200, with a header.
		{"ratelimited 200", answer{200, "2", `{"ok":false,"error":"ratelimited"}`},
			wantClass{retryAfter: 2 * time.Second, code: "ratelimited", reason: notify.ReasonRateLimited}},
		// 429 without Retry-After is still retryable.
		{"429 without Retry-After", answer{429, "", `{"ok":false,"error":"ratelimited"}`},
			wantClass{reason: notify.ReasonRateLimited}},
		// Slack-side trouble reported in the body is retryable.
		{"internal_error", answer{200, "", `{"ok":false,"error":"internal_error"}`},
			wantClass{code: "internal_error"}},
		// A 5xx with an HTML page is retryable.
		{"500", answer{500, "", "<html>oops</html>"},
			wantClass{reason: notify.ReasonServerError}},
		// 503 with Retry-After honours it.
		{"503 Retry-After", answer{503, "5", "<html>maintenance</html>"},
			wantClass{retryAfter: 5 * time.Second, reason: notify.ReasonServerError}},
		// An unknown code is permanent: retrying the same request cannot help.
		{"unknown code", answer{200, "", `{"ok":false,"error":"some_new_error"}`},
			wantClass{permanent: true, code: "some_new_error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(tt.answer.serve))
			t.Cleanup(srv.Close)
			client, rec := newRecordingClient(t)
			ch := newAPIChannel(t, srv.URL, client)

			_, err := ch.Send(t.Context(), testNotification(alert.StateActive, ""))
			requireClass(t, err, tt.want)
			require.Len(t, rec.Calls(), 1, "Send does not retry by itself")
		})
	}
}

// TestChannel_Send_UpdateError checks that chat.update errors other than a
// missing message are returned, not papered over with a new post.
func TestChannel_Send_UpdateError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(answer{200, "", `{"ok":false,"error":"token_revoked"}`}.serve))
	t.Cleanup(srv.Close)
	client, rec := newRecordingClient(t)
	ch := newAPIChannel(t, srv.URL, client)

	_, err := ch.Send(t.Context(), testNotification(alert.StateResolved, "C0ALERTS:1700000000.000100"))
	requireClass(t, err, wantClass{permanent: true, code: "token_revoked"})
	require.ErrorContains(t, err, "chat.update: token_revoked")
	require.Len(t, rec.Calls(), 1)
}

// TestChannel_Send_NetworkError checks that an unreachable Slack is
// retryable.
func TestChannel_Send_NetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	client, _ := newRecordingClient(t)
	ch := newAPIChannel(t, url, client)

	_, err := ch.Send(t.Context(), testNotification(alert.StateActive, ""))
	requireClass(t, err, wantClass{reason: notify.ReasonConnection})
}

// TestChannel_Send_Timeout checks that Config.Timeout bounds a Send and is
// named as the cause.
func TestChannel_Send_Timeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first
	client, _ := newRecordingClient(t)
	ch, err := New("slack-ops", Config{Token: secret.New(testToken), Channel: "C0ALERTS", APIURL: srv.URL,
		Timeout: 20 * time.Millisecond}, WithHTTPClient(client))
	require.NoError(t, err)

	_, err = ch.Send(t.Context(), testNotification(alert.StateActive, ""))
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, notify.IsPermanent(err))
}

// TestChannel_Send_Canceled checks that no request is made after cancel.
func TestChannel_Send_Canceled(t *testing.T) {
	t.Parallel()
	client, rec := newRecordingClient(t)
	ch := newAPIChannel(t, "http://127.0.0.1:1/", client)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := ch.Send(ctx, testNotification(alert.StateActive, ""))
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, rec.Calls())
}

// TestChannel_Send_NoAlerts checks the guard against an empty notification.
func TestChannel_Send_NoAlerts(t *testing.T) {
	t.Parallel()
	ch := newAPIChannel(t, "http://127.0.0.1:1/", http.DefaultClient)
	_, err := ch.Send(t.Context(), &notify.Notification{})
	require.ErrorIs(t, err, ErrNoAlerts)
	require.True(t, notify.IsPermanent(err))
}

func newWebhookChannel(t *testing.T, url string) (*Channel, *recordingTransport) {
	t.Helper()
	client, rec := newRecordingClient(t)
	ch, err := New("slack-hook", Config{WebhookURL: secret.New(url), Username: "klaxon", IconEmoji: ":bell:"},
		WithHTTPClient(client), WithClock(func() time.Time { return testNow }))
	require.NoError(t, err)
	return ch, rec
}

func TestChannel_Send_WebhookAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer answer
		want   *wantClass // nil: success
	}{
		// Slack's only success: 200 and "ok".
		{"ok", answer{200, "", "ok"}, nil},
		// The webhook was removed or the URL is wrong.
		{"404 no_service", answer{404, "", "no_service"},
			&wantClass{permanent: true, code: "no_service", reason: notify.ReasonClientError}},
		// The token in the URL is not valid.
		{"403 invalid_token", answer{403, "", "invalid_token"},
			&wantClass{permanent: true, code: "invalid_token"}},
		// The channel was archived: the destination is gone for good.
		{"410 channel_is_archived", answer{410, "", "channel_is_archived"},
			&wantClass{permanent: true, gone: true, code: "channel_is_archived", reason: notify.ReasonGone}},
		// A malformed payload is our bug, and retrying cannot fix it.
		{"400 invalid_payload", answer{400, "", "invalid_payload"},
			&wantClass{permanent: true, code: "invalid_payload"}},
		// Slack-side failure: retry.
		{"500 rollup_error", answer{500, "", "rollup_error"},
			&wantClass{code: "rollup_error", reason: notify.ReasonServerError}},
		// An HTML error page has no code.
		{"502 html", answer{502, "", "<html>bad gateway</html>"},
			&wantClass{reason: notify.ReasonServerError}},
		// Rate limited with Retry-After.
		{"429", answer{429, "7", "rate_limited"},
			&wantClass{retryAfter: 7 * time.Second, code: "rate_limited", reason: notify.ReasonRateLimited}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(tt.answer.serve))
			t.Cleanup(srv.Close)
			hookURL := srv.URL + "/services/T000/B000/XXXXsecretPATHxxxx"
			ch, rec := newWebhookChannel(t, hookURL)

			r, err := ch.Send(t.Context(), testNotification(alert.StateActive, ""))
			calls := rec.Calls()
			require.Len(t, calls, 1)
			require.Equal(t, "/services/T000/B000/XXXXsecretPATHxxxx", calls[0].Path)
			require.Equal(t, "application/json; charset=utf-8", calls[0].Header.Get("Content-Type"))
			if tt.want == nil {
				require.NoError(t, err)
				require.Equal(t, notify.Receipt{StatusCode: 200, Detail: "200 ok"}, r)
				return
			}
			requireClass(t, err, *tt.want)
			require.NotContains(t, err.Error(), "secretPATH")
		})
	}
}

// TestChannel_Send_WebhookNoThread checks that webhook mode posts every
// transition as a new full message (it cannot update).
func TestChannel_Send_WebhookNoThread(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(answer{200, "", "ok"}.serve))
	t.Cleanup(srv.Close)
	ch, rec := newWebhookChannel(t, srv.URL+"/services/T/B/secretsecret")

	r, err := ch.Send(t.Context(), testNotification(alert.StateResolved, "C0ALERTS:1700000000.000100"))
	require.NoError(t, err)
	require.Empty(t, r.Thread)
	calls := rec.Calls()
	require.Len(t, calls, 1)
	var body webhookPayload
	require.NoError(t, jsonUnmarshal(calls[0].Body, &body))
	require.Equal(t, "[RESOLVED] Alert: High error rate - Error rate is 12.5% (threshold 5%)", body.Text)
	require.Equal(t, "klaxon", body.Username)
	require.Equal(t, ":bell:", body.IconEmoji)
	require.Len(t, body.Attachments, 1)
	require.Equal(t, ColorResolved, body.Attachments[0].Color)
}

// TestChannel_Send_WebhookNetworkError checks that a connection error is
// retryable and does not quote the secret URL.
func TestChannel_Send_WebhookNetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	hook := srv.URL + "/services/T000/B000/XXXXsecretPATHxxxx"
	srv.Close()
	ch, _ := newWebhookChannel(t, hook)

	_, err := ch.Send(t.Context(), testNotification(alert.StateActive, ""))
	requireClass(t, err, wantClass{reason: notify.ReasonConnection})
	require.NotContains(t, err.Error(), "secretPATH")
	for e := err; e != nil; e = errors.Unwrap(e) {
		require.NotContains(t, e.Error(), "secretPATH", "no error in the chain quotes the URL")
	}
}
