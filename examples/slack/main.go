// Command slack runs klaxon embedded with one Slack channel (Web API mode)
// against a local stand-in Slack server (slacktest from
// github.com/slack-go/slack, plus the chat.update method it lacks), so it runs
// on one machine without a workspace. The program makes an alert fire (by
// recording failed requests), acknowledges it and resolves it. The stand-in
// prints each Web API call: one message is posted, then updated twice, with
// a thread reply for each later transition.
//
//	go run ./examples/slack
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify/slack"
	"github.com/klaxonhq/klaxon/secret"
)

// apiCall is one Web API call the stand-in answered.
type apiCall struct {
	method   string // "chat.postMessage", "chat.update"
	channel  string
	ts       string // chat.update: the message updated
	threadTS string // chat.postMessage: the thread replied to
	text     string
	color    string
	title    string
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The stand-in Slack: slacktest answers chat.postMessage; chat.update
	// is added with a Binder.
	server := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.update", chatUpdate)
	})
	server.Start()
	defer server.Stop()

	// The channel, pointed at the stand-in. Its HTTP client reports every
	// call so the program can follow along.
	calls := make(chan apiCall, 16)
	ch, err := slack.New("slack-ops", slack.Config{
		Token:     secret.New("xoxb-example-token"),
		Channel:   "C0ALERTS",
		APIURL:    server.GetAPIURL(),
		Username:  "klaxon",
		IconEmoji: ":rotating_light:",
	}, slack.WithHTTPClient(&http.Client{Transport: &observer{next: http.DefaultTransport, calls: calls}}))
	if err != nil {
		return err
	}

	// klaxon, embedded: one rule, one channel, state in a temporary directory.
	dataDir, err := os.MkdirTemp("", "klaxon-slack-example")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	eng, err := klaxon.New(
		klaxon.WithDataDir(dataDir),
		klaxon.WithoutRuntimeRules(),
		klaxon.WithEvaluationInterval(100*time.Millisecond),
		klaxon.WithExternalURL("http://127.0.0.1:9095"),
		klaxon.WithRules(klaxon.Rule{
			ID:        "high_error_rate",
			Name:      "High error rate",
			Condition: "error_rate > 0.05",
			Severity:  alert.Critical,
			Summary:   "Error rate is {{ percent .Value }}",
		}),
		klaxon.WithChannel("slack-ops", ch),
	)
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- eng.Run(ctx) }()
	select {
	case <-eng.Ready():
	case err := <-runErr:
		return err
	}

	// Every request fails: error_rate is 1, above the rule's 0.05.
	for range 10 {
		eng.Metrics().RecordRequest(nil, 20*time.Millisecond, true)
	}
	if _, err := await(ctx, calls, "chat.postMessage"); err != nil {
		return err
	}
	open := eng.Alerts()
	if len(open) != 1 {
		return fmt.Errorf("want one open alert, have %d", len(open))
	}
	fp := string(open[0].Fingerprint)

	if _, err := eng.Manager().Acknowledge(ctx, fp, "alice", "looking into it"); err != nil {
		return err
	}
	if err := awaitAll(ctx, calls, "chat.update", "chat.postMessage"); err != nil {
		return err
	}
	if _, err := eng.Manager().Resolve(ctx, fp, "alice", "fixed"); err != nil {
		return err
	}
	if err := awaitAll(ctx, calls, "chat.update", "chat.postMessage"); err != nil {
		return err
	}

	cancel()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Println("done: one Slack message, posted once, updated twice, two thread replies")
	return nil
}

// await waits for the stand-in to answer a call of method and prints it.
func await(ctx context.Context, calls <-chan apiCall, method string) (apiCall, error) {
	for {
		select {
		case c := <-calls:
			show(c)
			if c.method == method {
				return c, nil
			}
		case <-ctx.Done():
			return apiCall{}, fmt.Errorf("waiting for %s: %w", method, ctx.Err())
		}
	}
}

func awaitAll(ctx context.Context, calls <-chan apiCall, methods ...string) error {
	for _, m := range methods {
		if _, err := await(ctx, calls, m); err != nil {
			return err
		}
	}
	return nil
}

func show(c apiCall) {
	switch {
	case c.method == "chat.update":
		fmt.Printf("slack: chat.update      %s:%s color=%s title=%q\n", c.channel, c.ts, c.color, c.title)
	case c.threadTS != "":
		fmt.Printf("slack: thread reply     %s:%s text=%q\n", c.channel, c.threadTS, c.text)
	default:
		fmt.Printf("slack: chat.postMessage %s color=%s title=%q\n", c.channel, c.color, c.title)
	}
}

// chatUpdate answers chat.update as Slack does when the message exists.
func chatUpdate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ok": true, "channel": r.PostForm.Get("channel"), "ts": r.PostForm.Get("ts"), "text": r.PostForm.Get("text"),
	})
}

// observer is an http.RoundTripper that reports each successful Web API
// call (slack-go sends form bodies).
type observer struct {
	next  http.RoundTripper
	calls chan<- apiCall
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := o.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	form, _ := url.ParseQuery(string(body))
	c := apiCall{
		method:   req.URL.Path[1:],
		channel:  form.Get("channel"),
		ts:       form.Get("ts"),
		threadTS: form.Get("thread_ts"),
		text:     form.Get("text"),
	}
	var atts []slackapi.Attachment
	if json.Unmarshal([]byte(form.Get("attachments")), &atts) == nil && len(atts) > 0 {
		c.color, c.title = atts[0].Color, atts[0].Title
	}
	o.calls <- c
	return resp, nil
}
