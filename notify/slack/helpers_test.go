package slack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/secret"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// slacktest hands every posted message to a websocket hub nobody
		// reads in these tests; that goroutine blocks until the process ends.
		goleak.IgnoreTopFunction("github.com/slack-go/slack/slacktest.(*Server).queueForWebsocket"),
	)
}

// testNow is the fixed time of every test notification.
var testNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// testToken is a realistic-looking bot token that must never leak.
const testToken = "xoxb-1111-2222-SECRETtokenVALUE"

// call is one HTTP request seen by a recordingTransport.
type call struct {
	Path   string
	Header http.Header
	Form   url.Values // Web API form bodies
	Body   []byte
}

// recordingTransport records requests and forwards them.
type recordingTransport struct {
	next http.RoundTripper

	mu    sync.Mutex
	calls []call
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	c := call{Path: req.URL.Path, Header: req.Header.Clone(), Body: body}
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		c.Form, _ = url.ParseQuery(string(body))
	}
	rt.mu.Lock()
	rt.calls = append(rt.calls, c)
	rt.mu.Unlock()
	return rt.next.RoundTrip(req)
}

func (rt *recordingTransport) Calls() []call {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]call(nil), rt.calls...)
}

// newRecordingClient returns a client that records its requests; its idle
// connections close when the test ends.
func newRecordingClient(tb testing.TB) (*http.Client, *recordingTransport) {
	tb.Helper()
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	rt := &recordingTransport{next: tr}
	return &http.Client{Transport: rt}, rt
}

// testNotification is the sample alert in the given state, as the
// dispatcher would hand it over for the matching transition.
func testNotification(state alert.State, thread string) *notify.Notification {
	n := notify.SampleNotification("slack-ops", testNow)
	n.Event = notify.EventActive
	n.ExternalURL = "https://klaxon.example.com/alerts/" + n.Alerts[0].ID
	n.Thread = thread
	a := &n.Alerts[0]
	a.Metadata = map[string]string{"server": "web-1"}
	switch state {
	case alert.StateAcknowledged:
		at := testNow.Add(time.Minute)
		n.Event = notify.EventAcknowledged
		n.CreatedAt = at
		a.PreviousState = alert.StateActive
		a.State = alert.StateAcknowledged
		a.AcknowledgedAt = &at
		a.AcknowledgedBy = "alice"
		a.AckComment = "looking into it"
		a.Sequence = 2
	case alert.StateResolved:
		at := testNow.Add(5 * time.Minute)
		n.Event = notify.EventResolved
		n.CreatedAt = at
		a.PreviousState = alert.StateAcknowledged
		a.State = alert.StateResolved
		a.AcknowledgedBy = "alice"
		a.ResolvedAt = &at
		a.Sequence = 3
	}
	n.IdempotencyKey = notify.IdempotencyKey(a.ID, a.Fingerprint, a.Sequence, n.Channel)
	return n
}

// newAPIChannel returns a Web API channel against apiURL.
func newAPIChannel(tb testing.TB, apiURL string, client *http.Client, opts ...Option) *Channel {
	tb.Helper()
	opts = append([]Option{WithHTTPClient(client), WithClock(func() time.Time { return testNow })}, opts...)
	ch, err := New("slack-ops", Config{
		Token:   secret.New(testToken),
		Channel: "C0ALERTS",
		APIURL:  apiURL,
	}, opts...)
	require.NoError(tb, err)
	return ch
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
