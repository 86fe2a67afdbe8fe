package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// errAssertion marks a failed check (lost or duplicated notifications, a
// retry sooner than allowed): the harness exits 1.
var errAssertion = errors.New("assertion failed")

// perfResult is one run of the latency, throughput and footprint measurement.
type perfResult struct {
	Latency        latencyStats  `json:"latency"`
	Alerts         int           `json:"alerts"`
	ThroughputTime time.Duration `json:"throughput_ns"`
	ThroughputCPU  time.Duration `json:"throughput_cpu_ns"`
	AlertsPerSec   float64       `json:"alerts_per_sec"`
	Duplicates     int           `json:"duplicates"`
	Missing        int           `json:"missing"`
	PeakRSS        int64         `json:"peak_rss_bytes"`
	IdleRSS        int64         `json:"idle_rss_bytes"`
	IdleCPU        float64       `json:"idle_cpu_percent"`
	IdleWindow     time.Duration `json:"idle_window_ns"`
}

// runPerf measures one run on a fresh klaxon.
func runPerf(ctx context.Context, o *options, run int) (perfResult, error) {
	var res perfResult
	r, err := startRig(ctx, o, rigConfig{retry: defaultRetry})
	if err != nil {
		return res, err
	}
	defer r.close()

	// Warm-up: connections, caches, SQLite pages; not measured.
	if _, _, err := latency(ctx, r, fmt.Sprintf("w%d", run), o.warmup); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	lat, acc, err := latency(ctx, r, fmt.Sprintf("l%d", run), o.latencyN)
	if err != nil {
		return res, err
	}
	res.Latency = summarize(lat)
	accepted := summarize(acc)
	o.logf("run %d: latency p50 %s p99 %s (the POST's durable answer: p50 %s p99 %s)", run,
		ms(res.Latency.P50), ms(res.Latency.P99), ms(accepted.P50), ms(accepted.P99))

	before := r.recv.Count(klaxontest.TypeActive)
	stopProfiles := func() {}
	if o.cpuProfile != "" && run == 1 {
		stopProfiles = startProfiles(ctx, r, o, o.profileWindow)
	}
	cpu0, _ := klaxontest.ReadProcStat(r.proc.Pid())
	elapsed, ids, err := throughput(ctx, r, o, fmt.Sprintf("t%d", run), o.alerts, before)
	cpu1, _ := klaxontest.ReadProcStat(r.proc.Pid())
	stopProfiles()
	if err != nil {
		return res, err
	}
	v := r.recv.Check(klaxontest.TypeActive, ids)
	res.Alerts, res.ThroughputTime = len(ids), elapsed
	res.AlertsPerSec = float64(len(ids)) / elapsed.Seconds()
	res.Duplicates, res.Missing = v.Duplicates, len(v.Missing)
	res.ThroughputCPU = cpu1.CPU - cpu0.CPU
	o.logf("run %d: %d alerts in %s, klaxon CPU %s (%s)", run, len(ids), elapsed.Round(time.Millisecond),
		res.ThroughputCPU.Round(time.Millisecond), v)

	time.Sleep(o.settle)
	st0, err := klaxontest.ReadProcStat(r.proc.Pid())
	if err != nil {
		return res, err
	}
	res.PeakRSS = st0.PeakRSS
	t0 := time.Now()
	select {
	case <-time.After(o.idle):
	case <-ctx.Done():
		return res, context.Cause(ctx)
	}
	st1, err := klaxontest.ReadProcStat(r.proc.Pid())
	if err != nil {
		return res, err
	}
	res.IdleWindow = time.Since(t0)
	res.IdleCPU = 100 * float64(st1.CPU-st0.CPU) / float64(res.IdleWindow)
	res.PeakRSS = max(res.PeakRSS, st1.PeakRSS)
	res.IdleRSS = st1.RSS
	o.logf("run %d: peak RSS %s, RSS holding the alerts at the end of the idle window %s, idle CPU %.2f%%",
		run, mb(res.PeakRSS), mb(res.IdleRSS), res.IdleCPU)
	if v.Duplicates != 0 || len(v.Missing) != 0 {
		return res, fmt.Errorf("%w: throughput run %d: %s", errAssertion, run, v)
	}
	return res, nil
}

// latency posts n alerts one at a time and returns, for each, the time from
// sending the POST to the receiver reading the webhook, and the time until
// the POST was answered (the alert durable). The webhook may arrive first.
func latency(ctx context.Context, r *rig, prefix string, n int) (delivered, accepted []time.Duration, err error) {
	delivered, accepted = make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for i := range n {
		batch, ids := alerts(prefix, i, 1)
		start := time.Now()
		if _, err := r.api.PushAlerts(ctx, batch); err != nil {
			return nil, nil, fmt.Errorf("push %s: %w", ids[0], err)
		}
		accepted = append(accepted, time.Since(start))
		d, err := awaitArrival(ctx, r, ids[0], 30*time.Second)
		if err != nil {
			return nil, nil, err
		}
		delivered = append(delivered, d.At.Sub(start))
	}
	return delivered, accepted, nil
}

// awaitArrival waits for the firing webhook of the alert named id.
func awaitArrival(ctx context.Context, r *rig, id string, limit time.Duration) (*klaxontest.Delivery, error) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case d := <-r.arrivals:
			if d.Type != klaxontest.TypeActive {
				continue
			}
			for _, a := range d.Alerts {
				if a.Labels["id"] == id {
					return d, nil
				}
			}
		case <-timer.C:
			return nil, fmt.Errorf("%w: alert %s did not arrive within %s", errAssertion, id, limit)
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// throughput posts n alerts in batches from concurrent posters and returns
// the time from the first POST to the last receipt. before is the number of
// distinct alerts the receiver had already seen.
func throughput(ctx context.Context, r *rig, o *options, prefix string, n, before int) (time.Duration, []string, error) {
	all, ids := alerts(prefix, 0, n)
	batches := make(chan []klaxontest.PushAlert, n/o.batch+1)
	for i := 0; i < n; i += o.batch {
		batches <- all[i:min(i+o.batch, n)]
	}
	close(batches)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for range o.posters {
		wg.Go(func() {
			for b := range batches {
				if _, err := r.api.PushAlerts(ctx, b); err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, nil, fmt.Errorf("push: %w", first)
	}
	posted := time.Since(start)
	delivered := r.recv.Count(klaxontest.TypeActive) - before
	wctx, cancel := context.WithTimeout(ctx, o.deadline)
	defer cancel()
	if err := r.recv.Wait(wctx, klaxontest.TypeActive, before+n); err != nil {
		return 0, ids, fmt.Errorf("%w: %w", errAssertion, err)
	}
	o.logf("all %d posted (accepted, durable) after %s, %d delivered by then", n, posted.Round(time.Millisecond), delivered)
	return r.recv.Stats().Last.Sub(start), ids, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
