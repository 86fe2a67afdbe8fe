package klaxon_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// Example embeds klaxon in a service: one rule (the original request's
// threshold("error_rate", ">", 0.05)), one channel, requests recorded as
// they are served. A real service writes the same ten lines with a webhook
// or FromEnv() instead of the stdout channel, and lets Run evaluate on its
// interval instead of calling Evaluate.
func Example() {
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	delivered := make(chan struct{}, 1)
	stdout := notify.ChannelFunc(func(_ context.Context, n *notify.Notification) (notify.Receipt, error) {
		fmt.Printf("%s %s: %s\n", n.Event, n.Alert().RuleID, n.Alert().Summary)
		delivered <- struct{}{}
		return notify.Receipt{}, nil
	})

	eng, err := klaxon.New(
		klaxon.WithDataDir(dir),
		klaxon.WithRules(klaxon.Rule{
			ID:        "high_error_rate",
			Condition: klaxon.Threshold("error_rate", ">", 0.05),
			Severity:  alert.Critical,
			Summary:   "Error rate is {{ percent .Value }}",
		}),
		klaxon.WithChannel("stdout", stdout),
	)
	if err != nil {
		log.Fatal(err)
	}
	// In a handler: one call per request. Two of ten requests fail.
	for i := range 10 {
		eng.Metrics().RecordRequest(nil, 20*time.Millisecond, i < 2)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- eng.Run(ctx) }()
	<-eng.Ready()
	if err := eng.Evaluate(ctx); err != nil {
		log.Fatal(err)
	}
	<-delivered
	cancel()
	<-stopped
	// Output: alert.active high_error_rate: Error rate is 20%
}
