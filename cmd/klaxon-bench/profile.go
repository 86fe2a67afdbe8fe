package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"time"
)

// startProfiles records where the time and memory of the throughput phase
// go: a CPU profile of klaxon over window (from `serve --pprof`) in
// o.cpuProfile, one of the harness itself (it shares the cores) in
// o.cpuProfile+".harness", and klaxon's heap half-way through in
// o.cpuProfile+".heap". The returned stop waits for them and reports.
func startProfiles(ctx context.Context, r *rig, o *options, window time.Duration) (stop func()) {
	base := r.proc.URL() + "/debug/pprof/"
	cpu := make(chan error, 1)
	heap := make(chan error, 1)
	go func() {
		cpu <- fetchTo(ctx, fmt.Sprintf("%sprofile?seconds=%d", base, int(window.Seconds())), o.cpuProfile)
	}()
	go func() {
		select {
		case <-time.After(window / 2):
			heap <- fetchTo(ctx, base+"heap", o.cpuProfile+".heap")
		case <-ctx.Done():
			heap <- context.Cause(ctx)
		}
	}()
	self, err := os.Create(o.cpuProfile + ".harness")
	if err == nil {
		if err = pprof.StartCPUProfile(self); err != nil {
			self.Close()
			self = nil
		}
	}
	time.Sleep(20 * time.Millisecond) // let klaxon's profiler start before the load
	return func() {
		if self != nil {
			pprof.StopCPUProfile()
			err = self.Close()
		}
		if err = errors.Join(err, <-cpu, <-heap); err != nil {
			o.logf("profiles: %v", err)
			return
		}
		o.logf("profiles of the throughput phase: %s (klaxon CPU), %[1]s.harness, %[1]s.heap", o.cpuProfile)
	}
}

// fetchTo writes the body of GET url to path.
func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}
