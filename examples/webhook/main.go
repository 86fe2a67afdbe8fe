// Command webhook runs klaxon embedded with one webhook channel and its own
// local receiver. The receiver checks every request's Standard Webhooks
// signature with the official Go library, then prints what it got. The program
// makes an alert fire (by recording failed requests), acknowledges it and
// resolves it, so the receiver sees alert.active, alert.acknowledged and
// alert.resolved, each with its own webhook-id.
//
//	go run ./examples/webhook
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/notify/webhook"
	"github.com/klaxonhq/klaxon/secret"
)

// delivery is what the receiver accepted.
type delivery struct {
	id          string
	typ         string
	fingerprint string
	summary     string
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A fresh signing secret, as klaxon and the receiver would share it.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	signingSecret := "whsec_" + base64.StdEncoding.EncodeToString(key)

	// The receiver.
	got := make(chan delivery, 8)
	addr, stopReceiver, err := startReceiver(signingSecret, got)
	if err != nil {
		return err
	}
	defer stopReceiver()

	// The channel, pointed at the receiver.
	ch, err := webhook.New("ops", webhook.Config{
		URL:    secret.New("http://" + addr + "/hooks/klaxon"),
		Secret: secret.New(signingSecret),
	})
	if err != nil {
		return err
	}

	// klaxon, embedded: one rule, one channel, state in a temporary directory.
	dataDir, err := os.MkdirTemp("", "klaxon-webhook-example")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	eng, err := klaxon.New(
		klaxon.WithDataDir(dataDir),
		klaxon.WithoutRuntimeRules(),
		klaxon.WithEvaluationInterval(100*time.Millisecond),
		klaxon.WithRules(klaxon.Rule{
			ID:        "high_error_rate",
			Condition: "error_rate > 0.05",
			Severity:  alert.Critical,
			Summary:   "Error rate is {{ .Value }}",
		}),
		klaxon.WithChannel("ops", ch),
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
	d, err := await(ctx, got, "alert.active")
	if err != nil {
		return err
	}
	if _, err := eng.Manager().Acknowledge(ctx, d.fingerprint, "alice", "looking into it"); err != nil {
		return err
	}
	if _, err := await(ctx, got, "alert.acknowledged"); err != nil {
		return err
	}
	if _, err := eng.Manager().Resolve(ctx, d.fingerprint, "alice", "fixed"); err != nil {
		return err
	}
	if _, err := await(ctx, got, "alert.resolved"); err != nil {
		return err
	}

	cancel()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Println("done: three signed notifications delivered and verified")
	return nil
}

// await waits for the receiver to accept a notification of type typ.
func await(ctx context.Context, got <-chan delivery, typ string) (delivery, error) {
	for {
		select {
		case d := <-got:
			if d.typ == typ {
				return d, nil
			}
		case <-ctx.Done():
			return delivery{}, fmt.Errorf("waiting for %s: %w", typ, ctx.Err())
		}
	}
}

// startReceiver serves a webhook endpoint on a free loopback port. It answers
// 401 to requests whose signature does not verify.
func startReceiver(signingSecret string, got chan<- delivery) (addr string, stop func(), err error) {
	wh, err := standardwebhooks.NewWebhook(signingSecret)
	if err != nil {
		return "", nil, err
	}
	var mu sync.Mutex
	seen := map[string]bool{} // webhook-ids already handled; guarded by mu
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks/klaxon", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		// Verify the raw bytes before trusting anything in them.
		if err := wh.Verify(body, r.Header); err != nil {
			fmt.Println("receiver: rejected:", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var payload struct {
			Type   string `json:"type"`
			Alerts []struct {
				Fingerprint string `json:"fingerprint"`
				State       string `json:"state"`
				Summary     string `json:"summary"`
			} `json:"alerts"`
		}
		if err := json.Unmarshal(body, &payload); err != nil || len(payload.Alerts) == 0 {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		id := r.Header.Get("webhook-id")
		mu.Lock()
		dup := seen[id]
		seen[id] = true
		mu.Unlock()
		if dup { // a retry of something already handled: acknowledge, do nothing
			w.WriteHeader(http.StatusNoContent)
			return
		}
		a := payload.Alerts[0]
		fmt.Printf("receiver: verified %-18s state=%-12s id=%s summary=%q\n", payload.Type, a.State, id, a.Summary)
		got <- delivery{id: id, typ: payload.Type, fingerprint: a.Fingerprint, summary: a.Summary}
		w.WriteHeader(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
