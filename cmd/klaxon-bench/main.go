// Command klaxon-bench is klaxon's end-to-end benchmark harness. It builds
// ./cmd/klaxon, runs `klaxon serve` as a child process (so its RSS and CPU
// are its own) with a loopback webhook receiver, and measures:
//
//   - latency: alerts posted one at a time, from sending the POST to the
//     receiver reading the webhook (p50, p90, p99, max);
//   - throughput: 20,000 distinct alerts posted in batches by concurrent
//     posters, from the first POST to the last receipt, each checked to
//     arrive exactly once;
//   - footprint: peak RSS (VmHWM), and the RSS and CPU while idle holding
//     the open alerts (-alerts 100000 checks the 100,000-alert budget).
//
// Chaos modes check the delivery guarantees: -mode flaky (30% of receiver
// calls fail), -mode kill (SIGKILL and restart while notifications flow),
// -mode retry-after (a 429 with Retry-After: 2 is not retried sooner). -mode
// all runs everything. The exit status is 1 when an assertion fails (a lost
// or duplicated notification, a duplicate under another key, an early
// retry), or, with -strict, when a number misses its budget in DESIGN.md.
//
// Usage:
//
//	go run ./cmd/klaxon-bench -runs 3
//	go run ./cmd/klaxon-bench -mode all -json
//	go run ./cmd/klaxon-bench -store postgres -database-url postgres://...
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// options are the harness's flags.
type options struct {
	mode           string
	runs           int
	latencyN       int
	warmup         int
	alerts         int
	posters        int
	batch          int
	idle           time.Duration
	settle         time.Duration
	deadline       time.Duration
	jsonOut        bool
	strict         bool
	verbose        bool
	store          string
	databaseURL    string
	bin            string
	keep           bool
	notifications  int
	failRate       float64
	attemptTimeout time.Duration
	kills          int
	killMin        time.Duration
	killMax        time.Duration
	killRate       float64
	cpuProfile     string
	profileWindow  time.Duration
	env            envFlag

	tmp string
	log io.Writer
}

func (o *options) logf(format string, args ...any) {
	fmt.Fprintf(o.log, "# "+format+"\n", args...)
}

func parseFlags(args []string) (*options, error) {
	o := &options{log: os.Stderr}
	fs := flag.NewFlagSet("klaxon-bench", flag.ContinueOnError)
	fs.StringVar(&o.mode, "mode", "perf", "perf | flaky | kill | retry-after | replicas (two replicas on PostgreSQL, the leader killed) | all")
	fs.IntVar(&o.runs, "runs", 1, "perf runs; medians are printed")
	fs.IntVar(&o.latencyN, "n", 1000, "alerts posted one at a time for latency")
	fs.IntVar(&o.warmup, "warmup", 50, "unmeasured alerts posted one at a time first")
	fs.IntVar(&o.alerts, "alerts", 20000, "alerts of the throughput phase")
	fs.IntVar(&o.posters, "posters", 8, "concurrent posters")
	fs.IntVar(&o.batch, "batch", 250, "alerts per POST in the throughput phase")
	fs.DurationVar(&o.idle, "idle", 10*time.Second, "window of the idle CPU measurement")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "pause after the throughput phase before the idle window (klaxon serve hands a burst's spare heap back a few seconds after it ends; the window measures the steady state)")
	fs.DurationVar(&o.deadline, "deadline", 5*time.Minute, "how long to wait for deliveries before calling them lost")
	fs.BoolVar(&o.jsonOut, "json", false, "print JSON instead of tables")
	fs.BoolVar(&o.strict, "strict", false, "exit 1 when a number misses its budget")
	fs.BoolVar(&o.verbose, "v", false, "show klaxon's own output")
	fs.StringVar(&o.store, "store", "sqlite", "sqlite | postgres")
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL URL for -store postgres (server.database_url); use an empty database")
	fs.StringVar(&o.bin, "bin", "", "klaxon binary to run (default: go build ./cmd/klaxon)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, data)")
	fs.IntVar(&o.notifications, "notifications", 10000, "notifications of the flaky and kill modes")
	fs.Float64Var(&o.failRate, "fail-rate", 0.3, "fraction of receiver calls that fail in -mode flaky")
	fs.DurationVar(&o.attemptTimeout, "attempt-timeout", 200*time.Millisecond, "the channel's retry.timeout in the chaos modes (held calls outlast it)")
	fs.IntVar(&o.kills, "kills", 5, "SIGKILLs in -mode kill and -mode replicas")
	fs.DurationVar(&o.killMin, "kill-min", 200*time.Millisecond, "least time between a restart and the next kill")
	fs.DurationVar(&o.killMax, "kill-max", 2*time.Second, "most time between a restart and the next kill")
	fs.Float64Var(&o.killRate, "kill-rate", 1000, "alerts posted per second in -mode kill")
	fs.Var(&o.env, "env", "KEY=VALUE added to klaxon's environment (GOGC=50, GODEBUG=gctrace=1); repeatable")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "profile run 1's throughput phase: klaxon's CPU to this file, the harness's to FILE.harness, klaxon's heap to FILE.heap")
	fs.DurationVar(&o.profileWindow, "profile-window", 5*time.Second, "length of the -cpuprofile window from the start of the throughput phase (the heap is taken half way)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case o.mode != "perf" && o.mode != "flaky" && o.mode != "kill" && o.mode != "retry-after" && o.mode != "replicas" && o.mode != "all":
		return nil, fmt.Errorf("-mode: %q is not perf, flaky, kill, retry-after, replicas or all", o.mode)
	case o.mode == "replicas" && o.store != "postgres":
		return nil, errors.New("-mode replicas needs -store postgres and -database-url (an empty database)")
	case o.store != "sqlite" && o.store != "postgres":
		return nil, fmt.Errorf("-store: %q is not sqlite or postgres", o.store)
	case o.store == "postgres" && o.databaseURL == "":
		return nil, errors.New("-store postgres needs -database-url")
	case o.runs < 1 || o.latencyN < 1 || o.alerts < 1 || o.posters < 1 || o.batch < 1 || o.notifications < 1:
		return nil, errors.New("-runs, -n, -alerts, -posters, -batch and -notifications must be positive")
	case o.killMax < o.killMin || o.killRate <= 0:
		return nil, errors.New("-kill-max must be >= -kill-min and -kill-rate positive")
	}
	return o, nil
}

// report is the whole output, also the -json document.
type report struct {
	Store   string        `json:"store"`
	Runs    []perfResult  `json:"runs,omitempty"`
	Median  *perfResult   `json:"median,omitempty"`
	Budgets []budget      `json:"budgets,omitempty"`
	Chaos   []chaosResult `json:"chaos,omitempty"`
	Errors  []string      `json:"errors,omitempty"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, stdout io.Writer) int {
	o, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "klaxon-bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.tmp, err = os.MkdirTemp("", "klaxon-bench-"); err != nil {
		fmt.Fprintln(os.Stderr, "klaxon-bench:", err)
		return 2
	}
	if o.keep {
		o.logf("keeping %s", o.tmp)
	} else {
		defer os.RemoveAll(o.tmp)
	}
	if o.bin == "" {
		o.logf("go build ./cmd/klaxon")
		if o.bin, err = klaxontest.Build(ctx, o.tmp); err != nil {
			fmt.Fprintln(os.Stderr, "klaxon-bench:", err)
			return 2
		}
	} else if o.bin, err = filepath.Abs(o.bin); err != nil {
		fmt.Fprintln(os.Stderr, "klaxon-bench:", err)
		return 2
	}

	rep := report{Store: o.store}
	failed := false
	fail := func(err error) {
		failed = true
		rep.Errors = append(rep.Errors, err.Error())
		o.logf("FAIL: %v", err)
	}
	if o.mode == "perf" || o.mode == "all" {
		for i := 1; i <= o.runs && ctx.Err() == nil; i++ {
			res, err := runPerf(ctx, o, i)
			if err != nil {
				fail(fmt.Errorf("perf run %d: %w", i, err))
				continue
			}
			rep.Runs = append(rep.Runs, res)
		}
		if len(rep.Runs) > 0 {
			m := medianResult(rep.Runs)
			rep.Median = &m
			rep.Budgets = budgets(o, m)
			for _, b := range rep.Budgets {
				if !b.OK && o.strict {
					failed = true
				}
			}
		}
	}
	chaos := map[string]func(context.Context, *options) (chaosResult, error){
		"flaky": runFlaky, "kill": runKill, "retry-after": runRetryAfter, "replicas": runReplicas,
	}
	for _, name := range []string{"flaky", "kill", "retry-after", "replicas"} {
		// -mode all runs the replica set only on PostgreSQL.
		all := o.mode == "all" && (name != "replicas" || o.store == "postgres")
		if (o.mode != name && !all) || ctx.Err() != nil {
			continue
		}
		o.logf("mode %s", name)
		res, err := chaos[name](ctx, o)
		if err != nil {
			fail(err)
		}
		if res.Mode != "" {
			rep.Chaos = append(rep.Chaos, res)
		}
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		printReport(stdout, o, rep)
	}
	if failed || ctx.Err() != nil {
		return 1
	}
	return 0
}

// medianResult takes the median of every number across runs.
func medianResult(runs []perfResult) perfResult {
	return perfResult{
		Latency: latencyStats{
			N:   runs[0].Latency.N,
			P50: medianOf(runs, func(r perfResult) time.Duration { return r.Latency.P50 }),
			P90: medianOf(runs, func(r perfResult) time.Duration { return r.Latency.P90 }),
			P99: medianOf(runs, func(r perfResult) time.Duration { return r.Latency.P99 }),
			Max: medianOf(runs, func(r perfResult) time.Duration { return r.Latency.Max }),
		},
		Alerts:         runs[0].Alerts,
		ThroughputTime: medianOf(runs, func(r perfResult) time.Duration { return r.ThroughputTime }),
		AlertsPerSec:   medianOf(runs, func(r perfResult) float64 { return r.AlertsPerSec }),
		Duplicates:     medianOf(runs, func(r perfResult) int { return r.Duplicates }),
		Missing:        medianOf(runs, func(r perfResult) int { return r.Missing }),
		PeakRSS:        medianOf(runs, func(r perfResult) int64 { return r.PeakRSS }),
		IdleRSS:        medianOf(runs, func(r perfResult) int64 { return r.IdleRSS }),
		IdleCPU:        medianOf(runs, func(r perfResult) float64 { return r.IdleCPU }),
		IdleWindow:     runs[0].IdleWindow,
	}
}

// budgets checks the medians against DESIGN.md's budget table.
func budgets(o *options, m perfResult) []budget {
	p99 := 4 * time.Millisecond
	if o.store == "postgres" {
		p99 = 8 * time.Millisecond
	}
	out := []budget{
		{What: "latency p99", Value: ms(m.Latency.P99), Budget: "<= " + ms(p99), OK: m.Latency.P99 <= p99},
		{What: fmt.Sprintf("%d alerts delivered", m.Alerts), Value: m.ThroughputTime.Round(time.Millisecond).String(), Budget: "<= 1.6s (20,000)",
			OK: m.Alerts != 20000 || m.ThroughputTime <= 1600*time.Millisecond},
		{What: "peak RSS", Value: mb(m.PeakRSS), Budget: "<= 75 MB (20,000)", OK: m.Alerts != 20000 || m.PeakRSS <= 75e6},
		{What: "idle CPU", Value: fmt.Sprintf("%.2f%%", m.IdleCPU), Budget: "~0 (< 1% of a core)", OK: m.IdleCPU < 1},
	}
	if m.Alerts >= 100000 {
		out = append(out, budget{What: fmt.Sprintf("RSS holding %d alerts", m.Alerts), Value: mb(m.IdleRSS),
			Budget: "<= 200 MB (100,000)", OK: m.IdleRSS <= 200e6})
	}
	if o.store == "sqlite" {
		out = append([]budget{{What: "latency p50", Value: ms(m.Latency.P50), Budget: "<= 1.50 ms", OK: m.Latency.P50 <= 1500*time.Microsecond}}, out...)
	}
	return out
}

func printReport(w io.Writer, o *options, rep report) {
	if len(rep.Runs) > 0 {
		fmt.Fprintf(w, "klaxon end to end, store %s, %d latency alerts, %d alerts by %d posters x %d per POST\n\n",
			o.store, o.latencyN, o.alerts, o.posters, o.batch)
		rows := [][]string{{"run", "p50", "p90", "p99", "max", "alerts", "time", "alerts/s", "dups", "lost", "peak RSS", "idle RSS", "idle CPU"}}
		add := func(name string, r perfResult) {
			rows = append(rows, []string{name, ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max),
				fmt.Sprint(r.Alerts), r.ThroughputTime.Round(time.Millisecond).String(), fmt.Sprintf("%.0f", r.AlertsPerSec),
				fmt.Sprint(r.Duplicates), fmt.Sprint(r.Missing), mb(r.PeakRSS), mb(r.IdleRSS), fmt.Sprintf("%.2f%%", r.IdleCPU)})
		}
		for i, r := range rep.Runs {
			add(fmt.Sprint(i+1), r)
		}
		if rep.Median != nil && len(rep.Runs) > 1 {
			add("median", *rep.Median)
		}
		table(w, rows)
		fmt.Fprintln(w)
		rows = [][]string{{"budget", "value", "limit", ""}}
		for _, b := range rep.Budgets {
			rows = append(rows, []string{b.What, b.Value, b.Budget, verdict(b.OK)})
		}
		table(w, rows)
		fmt.Fprintln(w)
	}
	if len(rep.Chaos) > 0 {
		rows := [][]string{{"mode", "notifications", "delivered", "lost", "duplicates", "key conflicts", "attempts", "restarts", "time", "retry gap", ""}}
		for _, c := range rep.Chaos {
			gap := "-"
			if c.RetryGap > 0 {
				gap = c.RetryGap.Round(time.Millisecond).String()
			}
			rows = append(rows, []string{c.Mode, fmt.Sprint(c.Notifications), fmt.Sprint(c.Delivered), fmt.Sprint(c.Lost),
				fmt.Sprint(c.Duplicates), fmt.Sprint(c.KeyConflicts), fmt.Sprint(c.Attempts), fmt.Sprint(c.Restarts),
				c.Time.Round(time.Millisecond).String(), gap, verdict(c.OK)})
		}
		table(w, rows)
		for _, c := range rep.Chaos {
			if c.Note != "" {
				fmt.Fprintf(w, "  %s: %s\n", c.Mode, c.Note)
			}
		}
		fmt.Fprintln(w)
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "FAIL:", e)
	}
}

// envFlag collects repeated -env KEY=VALUE flags.
type envFlag []string

func (e *envFlag) String() string { return fmt.Sprint([]string(*e)) }

func (e *envFlag) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}
