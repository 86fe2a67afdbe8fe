// Command pagerduty shows klaxon's PagerDuty channel end to end: it starts a
// local stand-in for PagerDuty's Events API v2, then triggers, acknowledges
// and resolves one alert through the channel, and prints every request body
// the stand-in receives and every receipt the channel returns.
//
//	go run ./examples/pagerduty
//
// With PAGERDUTY_ROUTING_KEY set it sends to PagerDuty itself instead
// (PAGERDUTY_EVENTS_URL selects another endpoint, such as the EU region's
// https://events.eu.pagerduty.com/v2/enqueue).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/notify/pagerduty"
	"github.com/klaxonhq/klaxon/secret"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	cfg := pagerduty.Config{
		RoutingKey:  secret.New(os.Getenv("PAGERDUTY_ROUTING_KEY")),
		EventsURL:   os.Getenv("PAGERDUTY_EVENTS_URL"),
		Source:      "checkout.example.com",
		Group:       "prod",
		SeverityMap: map[string]string{"high": "error"},
	}
	if cfg.RoutingKey.IsZero() {
		srv := httptest.NewServer(standIn(out))
		defer srv.Close()
		cfg.RoutingKey = secret.New("example0routing0key0000000000000")
		cfg.EventsURL = srv.URL + "/v2/enqueue"
		fmt.Fprintf(out, "stand-in Events API at %s\n\n", cfg.EventsURL)
	}
	ch, err := pagerduty.New("pager", cfg)
	if err != nil {
		return err
	}

	now := time.Now().UTC()
	a := alert.Alert{
		ID:          "example-1",
		RuleID:      "high_error_rate",
		RuleName:    "High error rate",
		Severity:    alert.High,
		Summary:     "Error rate is 12.5% (threshold 5%)",
		Description: "checkout fails one request in eight",
		Labels:      alert.Labels{"service": "checkout", "component": "api"},
		Annotations: map[string]string{"runbook_url": "https://example.com/runbooks/high-error-rate"},
		Value:       0.125,
		StartedAt:   now,
		UpdatedAt:   now,
	}
	a.Fingerprint = alert.NewFingerprint(a.RuleID, a.Labels)

	for _, step := range []struct {
		event notify.Event
		state alert.State
	}{
		{notify.EventActive, alert.StateActive},
		{notify.EventAcknowledged, alert.StateAcknowledged},
		{notify.EventResolved, alert.StateResolved},
	} {
		a.State, a.Sequence = step.state, a.Sequence+1
		n := &notify.Notification{
			IdempotencyKey: notify.IdempotencyKey(a.ID, a.Fingerprint, a.Sequence, "pager"),
			Channel:        "pager",
			Event:          step.event,
			Alerts:         []notify.AlertEvent{{Alert: &a}},
			Attempt:        1,
			CreatedAt:      now,
			ExternalURL:    "https://klaxon.example.com/alerts/" + a.ID,
		}
		rc, err := ch.Send(ctx, n)
		if err != nil {
			return fmt.Errorf("%s: %s", step.event, notify.Describe(err))
		}
		fmt.Fprintf(out, "%s -> %s\n\n", step.event, rc.Detail)
	}
	return nil
}

// standIn answers like PagerDuty's enqueue endpoint and prints each body.
func standIn(out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			pretty.Write(body)
		}
		fmt.Fprintf(out, "PagerDuty received %s %s:\n%s\n", r.Method, r.URL.Path, pretty.String())
		var ev struct {
			DedupKey string `json:"dedup_key"`
		}
		_ = json.Unmarshal(body, &ev)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
	})
}
