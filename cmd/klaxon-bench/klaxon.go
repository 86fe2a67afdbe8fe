package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// retryPolicy is the webhook channel's retry block in the generated config.
type retryPolicy struct {
	Timeout        time.Duration
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	MaxAge         time.Duration
}

// defaultRetry is klaxon's own default budget, except a shorter attempt
// timeout.
var defaultRetry = retryPolicy{Timeout: 5 * time.Second, InitialBackoff: 500 * time.Millisecond, MaxBackoff: time.Minute, MaxAge: time.Hour}

// rigConfig says how to set up klaxon and its receiver for one measurement.
type rigConfig struct {
	retry     retryPolicy
	fault     klaxontest.FaultFunc
	keepCalls bool
}

// rig is one klaxon child process with its webhook receiver and data dir.
type rig struct {
	dir      string
	recv     *klaxontest.Receiver
	proc     *klaxontest.Process
	api      *klaxontest.Client
	arrivals chan *klaxontest.Delivery
}

// startRig writes a config into a fresh directory under o.tmp, starts the
// receiver and `klaxon serve`, and waits until klaxon is ready.
func startRig(ctx context.Context, o *options, rc rigConfig) (*rig, error) {
	dir, err := os.MkdirTemp(o.tmp, "run-")
	if err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	r := &rig{dir: dir, arrivals: make(chan *klaxontest.Delivery, 256)}
	r.recv, err = klaxontest.NewReceiver(klaxontest.ReceiverConfig{
		Fault:     rc.fault,
		KeepCalls: rc.keepCalls,
		OnDeliver: func(d *klaxontest.Delivery) {
			select {
			case r.arrivals <- d:
			default: // nobody is timing single alerts now
			}
		},
	})
	if err != nil {
		return nil, err
	}
	addr, err := klaxontest.FreeAddr()
	if err != nil {
		r.recv.Close()
		return nil, err
	}
	cfgPath := filepath.Join(dir, "klaxon.yml")
	if err := os.WriteFile(cfgPath, []byte(renderConfig(o, addr, filepath.Join(dir, "data"), r.recv.URL()+"/hook", rc.retry)), 0o600); err != nil {
		r.recv.Close()
		return nil, fmt.Errorf("write config: %w", err)
	}
	var logw *os.File
	if o.verbose {
		logw = os.Stderr
	}
	pc := klaxontest.ProcessConfig{Bin: o.bin, ConfigFile: cfgPath, Addr: addr, Env: o.env}
	if logw != nil {
		pc.Log = logw
	}
	if o.cpuProfile != "" {
		pc.Args = append(pc.Args, "--pprof")
	}
	r.proc, err = klaxontest.StartProcess(ctx, pc)
	if err != nil {
		r.recv.Close()
		return nil, err
	}
	r.api = &klaxontest.Client{URL: r.proc.URL(), HTTP: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
	}}
	return r, nil
}

// close stops klaxon and the receiver; the directory goes with o.tmp.
func (r *rig) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = r.proc.Stop(ctx)
	_ = r.recv.Close()
}

// renderConfig is the YAML klaxon runs on: one webhook channel, one route.
func renderConfig(o *options, addr, dataDir, hook string, rp retryPolicy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  listen: %q\n  data_dir: %q\n  resolve_timeout: 24h\n", addr, dataDir)
	if o.store == "postgres" {
		fmt.Fprintf(&b, "  database_url: %q\n", o.databaseURL)
	}
	fmt.Fprintf(&b, "evaluation_interval: 1m\n")
	fmt.Fprintf(&b, "channels:\n  ops:\n    type: webhook\n    url: %q\n", hook)
	fmt.Fprintf(&b, "    retry:\n      timeout: %s\n      initial_backoff: %s\n      max_backoff: %s\n      max_age: %s\n",
		rp.Timeout, rp.InitialBackoff, rp.MaxBackoff, rp.MaxAge)
	fmt.Fprintf(&b, "routes:\n  - notify: [ops]\n    repeat_interval: 24h\n")
	return b.String()
}

// alerts makes n distinct alerts whose id label is prefix-i.
func alerts(prefix string, from, n int) ([]klaxontest.PushAlert, []string) {
	out := make([]klaxontest.PushAlert, n)
	ids := make([]string, n)
	for i := range out {
		id := fmt.Sprintf("%s-%d", prefix, from+i)
		ids[i] = id
		out[i] = klaxontest.PushAlert{
			Labels:   map[string]string{"id": id, "service": "bench", "instance": "host-" + fmt.Sprint((from+i)%97)},
			Severity: "critical",
			Summary:  "bench alert " + id,
		}
	}
	return out, ids
}

// pushUntilAccepted posts a batch until klaxon answers 202: across kills,
// a batch whose answer was lost is posted again, which changes nothing for
// alerts already firing.
func pushUntilAccepted(ctx context.Context, api *klaxontest.Client, batch []klaxontest.PushAlert) (tries int, err error) {
	for {
		tries++
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := api.PushAlerts(pctx, batch)
		cancel()
		if err == nil {
			return tries, nil
		}
		select {
		case <-ctx.Done():
			return tries, fmt.Errorf("push: %w (last error: %v)", context.Cause(ctx), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
