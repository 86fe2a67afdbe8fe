package klaxon_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
)

// queueProvider is the original request's CustomMetricProvider: it answers
// the current value of metrics it knows by name. The engine calls it from
// its evaluation loop, so it must be safe for concurrent use.
type queueProvider struct {
	mu    sync.Mutex
	depth float64
}

func (p *queueProvider) set(v float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.depth = v
}

func (p *queueProvider) Value(name string) (float64, bool) {
	if name != "queue_depth" {
		return 0, false // not mine: no data, neither a breach nor a recovery
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.depth, true
}

func (p *queueProvider) Metadata(name string) map[string]string {
	return map[string]string{"unit": "jobs"}
}

// Example_provider alerts on a custom metric read from a provider, then
// resolves when the value comes back under the threshold.
func Example_provider() {
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	delivered := make(chan struct{})
	stdout := notify.ChannelFunc(func(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
		fmt.Printf("%s: %s\n", n.Event, n.Alert().Summary)
		select {
		case delivered <- struct{}{}:
		case <-ctx.Done(): // a send must end when klaxon stops
		}
		return notify.Receipt{}, nil
	})
	queue := &queueProvider{depth: 250}

	eng, err := klaxon.New(
		klaxon.WithDataDir(dir),
		klaxon.WithProvider("queue", queue),
		klaxon.WithRules(klaxon.Rule{
			ID: "queue_backlog", Condition: "queue_depth > 100", Severity: alert.High,
			Summary: "{{ humanize .Value }} jobs waiting (threshold {{ .ThresholdValue }})",
		}),
		klaxon.WithChannel("stdout", stdout),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- eng.Run(ctx) }()
	<-eng.Ready()

	_ = eng.Evaluate(ctx) // 250 > 100: fires
	<-delivered
	queue.set(3)
	_ = eng.Evaluate(ctx) // 3: resolves
	<-delivered
	cancel()
	<-stopped
	// Output:
	// alert.active: 250 jobs waiting (threshold 100)
	// alert.resolved: 3 jobs waiting (threshold 100)
}
