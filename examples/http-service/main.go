// Command http-service is an instrumented net/http service that alerts on
// itself. It serves an endpoint that turns flaky, drives its own traffic,
// records every request with klaxon (Metrics().RecordRequest), and shows
// the error-rate rule fire on the console, then resolve once traffic heals.
// It exits 0 after the resolution, or 1 after a timeout.
//
//	go run ./examples/http-service
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/notify/console"
)

func main() {
	timeout := flag.Duration("timeout", time.Minute, "give up (exit 1) after this long")
	flag.Parse()
	if err := run(*timeout); err != nil {
		log.Fatal(err)
	}
}

func run(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "klaxon-http-service")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The console channel prints each notification; the wrapper also tells
	// this program when the alert fired and when it resolved.
	out, err := console.New("console", console.Config{})
	if err != nil {
		return err
	}
	fired, resolved := make(chan struct{}), make(chan struct{})
	var firedOnce, resolvedOnce atomic.Bool
	watch := notify.ChannelFunc(func(ctx context.Context, n *notify.Notification) (notify.Receipt, error) {
		r, err := out.Send(ctx, n)
		switch {
		case n.Event == notify.EventActive && firedOnce.CompareAndSwap(false, true):
			close(fired)
		case n.Event == notify.EventResolved && resolvedOnce.CompareAndSwap(false, true):
			close(resolved)
		}
		return r, err
	})

	// Alerting in a few lines: a rule, a channel, Run.
	eng, err := klaxon.New(
		klaxon.WithDataDir(dir),
		klaxon.WithEvaluationInterval(time.Second),
		klaxon.WithRules(klaxon.Rule{
			ID: "high_error_rate", Name: "High error rate",
			// The share of failed requests over the last 10 seconds (the
			// plain error_rate looks at 5 minutes; a demo cannot wait that long).
			Condition: "avg(error_rate[10s]) > 0.05",
			For:       2 * time.Second,
			Severity:  alert.Critical,
			Summary:   "{{ percent .Value }} of requests to {{ .Labels.service }} fail",
		}),
		klaxon.WithChannel("console", watch),
	)
	if err != nil {
		return err
	}
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(ctx) }()
	<-eng.Ready()

	// The service: /work fails one request in three while flaky is set.
	var flaky atomic.Bool
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /work", func(w http.ResponseWriter, r *http.Request) {
		if flaky.Load() && n.Add(1)%3 == 0 {
			http.Error(w, "upstream timed out", http.StatusBadGateway)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	labels := alert.Labels{"service": "demo"}
	handler := instrument(eng, labels, mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/work"
	fmt.Println("service: serving", url)

	// Traffic: 100 requests a second until the end.
	go drive(ctx, url)

	say := func(msg string) { fmt.Println("traffic:", msg) }
	say("healthy for 3s")
	if !sleep(ctx, 3*time.Second) {
		return errors.New("timed out")
	}
	say("the endpoint turns flaky (one request in three fails)")
	flaky.Store(true)
	select {
	case <-fired:
	case <-ctx.Done():
		return fmt.Errorf("the alert did not fire within %s", timeout)
	}
	say("healed; the alert resolves once failures leave the 10s window")
	flaky.Store(false)
	select {
	case <-resolved:
	case <-ctx.Done():
		return fmt.Errorf("the alert did not resolve within %s", timeout)
	}
	say("done")
	cancel()
	return <-engDone
}

// instrument records each request's latency and outcome (5xx = failed).
func instrument(eng *klaxon.Engine, labels alert.Labels, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		eng.Metrics().RecordRequest(labels, time.Since(start), sw.status >= 500)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func drive(ctx context.Context, url string) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
