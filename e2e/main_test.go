package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// binDir holds the klaxon binary built (once, on first use) for the
// child-process tests.
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "klaxon-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// klaxonBinary builds ./cmd/klaxon once per test binary, and skips the test
// when the go command is not on PATH.
func klaxonBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		binPath, binError = klaxontest.Build(ctx, binDir)
	})
	if errors.Is(binError, klaxontest.ErrNoGo) {
		t.Skip("skipping: this test runs klaxon as a child process and builds it with `go build`, but the go command is not on PATH")
	}
	require.NoError(t, binError)
	return binPath
}

// startProcess writes yaml (with %[1]s standing for nothing: the listen
// address and data dir are added here) and runs `klaxon serve` on it.
func startProcess(t *testing.T, yaml string) *klaxontest.Process {
	t.Helper()
	return startServe(t, func(addr, dir string) string {
		return fmt.Sprintf("server:\n  listen: %q\n  data_dir: %q\n  resolve_timeout: 1h\n", addr, filepath.Join(dir, "data"))
	}, yaml)
}

// startServe runs `klaxon serve` on a free loopback address with the server
// section head(addr, a temporary directory) followed by yaml, until the test
// ends.
func startServe(t *testing.T, head func(addr, dir string) string, yaml string) *klaxontest.Process {
	t.Helper()
	bin := klaxonBinary(t)
	dir := t.TempDir()
	addr, err := klaxontest.FreeAddr()
	require.NoError(t, err)
	cfg := filepath.Join(dir, "klaxon.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(head(addr, dir)+yaml), 0o600))
	p, err := klaxontest.StartProcess(t.Context(), klaxontest.ProcessConfig{Bin: bin, ConfigFile: cfg, Addr: addr})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Stop(ctx)
		if t.Failed() {
			t.Logf("klaxon %s output:\n%s", addr, p.Log())
		}
	})
	return p
}

// startEngine runs klaxon in-process on yaml, on a loopback port and a
// temporary data directory, until the test ends.
func startEngine(t *testing.T, yaml string) *klaxontest.Client {
	t.Helper()
	cfg, err := config.Parse("e2e.yml", []byte(yaml), klaxon.LoadOptions(os.Getenv))
	require.NoError(t, err)
	eng, err := klaxon.New(
		klaxon.WithConfig(cfg),
		klaxon.WithListen("127.0.0.1:0"),
		klaxon.WithDataDir(t.TempDir()),
		klaxon.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("engine did not stop within 30s")
		}
	})
	select {
	case <-eng.Ready():
	case err := <-done:
		t.Fatalf("engine stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("engine not ready within 30s")
	}
	return klaxontest.NewClient("http://" + eng.Addr())
}

// newReceiver starts a receiver that lives until the test ends.
func newReceiver(t *testing.T, cfg klaxontest.ReceiverConfig) *klaxontest.Receiver {
	t.Helper()
	r, err := klaxontest.NewReceiver(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// webhookYAML is a channels entry for a webhook to url with a fast retry
// policy (attempt timeout 200ms, backoff 50ms doubling to 1s).
func webhookYAML(name, url string) string {
	return fmt.Sprintf("  %s:\n    type: webhook\n    url: %q\n    retry: {timeout: 200ms, initial_backoff: 50ms, max_backoff: 1s}\n", name, url)
}

// pushAlerts makes n alerts whose id label is prefix-i and posts them in
// batches of batch, retrying each batch until klaxon accepts it (across
// restarts re-posting a firing alert changes nothing).
func pushAlerts(ctx context.Context, c *klaxontest.Client, prefix string, n, batch int, pause time.Duration) ([]string, error) {
	ids := make([]string, 0, n)
	for i := 0; i < n; i += batch {
		var b []klaxontest.PushAlert
		for j := i; j < min(i+batch, n); j++ {
			id := fmt.Sprintf("%s-%d", prefix, j)
			ids = append(ids, id)
			b = append(b, klaxontest.PushAlert{Labels: map[string]string{"id": id, "service": "e2e"}, Severity: "critical", Summary: "e2e " + id})
		}
		for {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := c.PushAlerts(pctx, b)
			cancel()
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return ids, fmt.Errorf("push alerts: %w (last error: %w)", context.Cause(ctx), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
	return ids, nil
}

// eventually polls f every 50ms until it returns true or d passes.
func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
