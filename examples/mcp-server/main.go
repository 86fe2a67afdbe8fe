// Command mcp-server is an MCP server (official Go SDK) with production
// alerting by klaxon: a flaky tool fails, the error-rate alert fires and
// notifies the console (and a webhook when MCP_ALERT_WEBHOOK_URL is set),
// the tool recovers, and the alert resolves.
//
//	go run ./examples/mcp-server          # server and client in one process
//	go run ./examples/mcp-server -stdio   # only the server, on stdio, for an MCP client
//
// The demo's klaxon clock runs 60 times faster than real time, so the
// 5-minute error-rate window passes in 5 seconds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	kmcp "github.com/klaxonhq/klaxon/mcp"
	"github.com/klaxonhq/klaxon/notify/console"
	"github.com/klaxonhq/klaxon/notify/webhook"
	"github.com/klaxonhq/klaxon/secret"
)

type searchIn struct {
	Query string `json:"query" jsonschema:"what to look for"`
}

func main() {
	stdio := flag.Bool("stdio", false, "serve the instrumented server on stdio (no demo client)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *stdio); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, stdio bool) error {
	dir, err := os.MkdirTemp("", "klaxon-mcp-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Console output goes to stderr in stdio mode: stdout is the protocol.
	out := os.Stdout
	if stdio {
		out = os.Stderr
	}
	cons, err := console.New("console", console.Config{}, console.WithWriter(out))
	if err != nil {
		return err
	}
	start := time.Now()
	fast := func() time.Time { return start.Add(time.Since(start) * 60) }
	opts := []klaxon.Option{
		klaxon.WithDataDir(dir), klaxon.WithClock(fast), klaxon.WithEvaluationInterval(time.Second),
		klaxon.WithChannel("console", cons),
		// Fire on the first evaluation that sees more than 5% failures.
		kmcp.WithRules(&kmcp.RulesOptions{ErrorRateFor: -1}),
	}
	if u := os.Getenv("MCP_ALERT_WEBHOOK_URL"); u != "" {
		wh, err := webhook.New("webhook", webhook.Config{URL: secret.New(u), Secret: secret.New(os.Getenv("MCP_ALERT_WEBHOOK_SECRET"))})
		if err != nil {
			return err
		}
		opts = append(opts, klaxon.WithChannel("webhook", wh))
	}
	engine, err := klaxon.New(opts...)
	if err != nil {
		return err
	}

	// The MCP server, instrumented: one line.
	server := sdk.NewServer(&sdk.Implementation{Name: "flaky-search", Version: "v1"}, nil)
	kmcp.Instrument(server, engine.Metrics(), nil)
	var failing atomic.Bool
	sdk.AddTool(server, &sdk.Tool{Name: "search", Description: "Search the catalogue (flaky)"},
		func(_ context.Context, _ *sdk.CallToolRequest, in searchIn) (*sdk.CallToolResult, any, error) {
			if failing.Load() && rand.IntN(10) < 8 {
				return nil, nil, errors.New("search backend timed out")
			}
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "3 results for " + in.Query}}}, nil, nil
		})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- engine.Run(ctx) }()
	<-engine.Ready()

	if stdio {
		failing.Store(true)
		err := server.Run(ctx, &sdk.StdioTransport{})
		cancel()
		<-done
		return err
	}
	err = demo(ctx, server, engine, &failing)
	cancel()
	return errors.Join(err, <-done)
}

// demo connects a client in process, calls the tool while it fails, waits
// for the alert, lets the tool recover and waits for the resolution.
func demo(ctx context.Context, server *sdk.Server, engine *klaxon.Engine, failing *atomic.Bool) error {
	ct, st := sdk.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		return err
	}
	defer ss.Close()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "demo-client", Version: "v1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		return err
	}
	defer cs.Close()

	callN := func(n int) (failed int, err error) {
		for range n {
			res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "search", Arguments: map[string]any{"query": "lamps"}})
			if err != nil {
				return failed, err
			}
			if res.IsError {
				failed++
			}
		}
		return failed, nil
	}

	fmt.Println("phase 1: the search tool fails most calls")
	failing.Store(true)
	failed, err := callN(20)
	if err != nil {
		return err
	}
	fmt.Printf("client: %d of 20 calls failed\n", failed)
	a, err := waitFor(ctx, engine, func(a *alert.Alert) bool { return a != nil && a.State == alert.StateActive })
	if err != nil {
		return err
	}
	fmt.Printf("klaxon: %s is %s for tool=%s\n", a.RuleID, a.State, a.Labels["tool"])

	fmt.Println("phase 2: the tool recovers; the failures leave the 5-minute window")
	failing.Store(false)
	for {
		if _, err := callN(5); err != nil {
			return err
		}
		got, err := engine.Manager().Get(ctx, a.ID)
		if err != nil {
			return err
		}
		if got.State == alert.StateResolved {
			fmt.Printf("klaxon: %s resolved\n", got.RuleID)
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	// Let the console print the resolution before the engine stops.
	time.Sleep(500 * time.Millisecond)
	fmt.Println("done")
	return nil
}

func waitFor(ctx context.Context, engine *klaxon.Engine, ok func(*alert.Alert) bool) (*alert.Alert, error) {
	for {
		for _, a := range engine.Alerts() {
			if a.RuleID == kmcp.RuleHighErrorRate && ok(a) {
				return a, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
