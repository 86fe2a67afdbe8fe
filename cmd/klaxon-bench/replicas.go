package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/klaxonhq/klaxon/e2e/klaxontest"
)

// runReplicas runs two `klaxon serve` replicas on one PostgreSQL database
// and sends o.notifications at o.killRate alerts/s, posting to either
// replica, while SIGKILLing whichever replica leads o.kills times and
// starting it again. It reports what the receiver saw and the longest time
// the set went without a leader.
func runReplicas(ctx context.Context, o *options) (chaosResult, error) {
	res := chaosResult{Mode: "replicas", Notifications: o.notifications}
	if o.store != "postgres" {
		return res, errors.New("-mode replicas needs -store postgres and -database-url (an empty database)")
	}
	recv, err := klaxontest.NewReceiver(klaxontest.ReceiverConfig{})
	if err != nil {
		return res, err
	}
	defer recv.Close()
	var procs [2]*klaxontest.Process
	for i := range procs {
		p, err := startReplica(ctx, o, recv.URL()+"/hook", i)
		if err != nil {
			return res, err
		}
		procs[i] = p
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = p.Stop(sctx)
		}()
	}
	clients := [2]*klaxontest.Client{klaxontest.NewClient(procs[0].URL()), klaxontest.NewClient(procs[1].URL())}

	all, ids := alerts("rep", 0, o.notifications)
	const batch = 50
	interval := time.Duration(float64(time.Second) * batch / o.killRate)
	start := time.Now()
	posted := make(chan struct{})
	var next atomic.Int64
	go func() {
		defer close(posted)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; i < len(all); i += batch {
			// Any replica takes a post; one being killed sends the poster to
			// the other.
			for ctx.Err() == nil {
				c := clients[next.Load()%2]
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := c.PushAlerts(pctx, all[i:min(i+batch, len(all))])
				cancel()
				if err == nil {
					break
				}
				next.Add(1)
				time.Sleep(20 * time.Millisecond)
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	var leaderless time.Duration
	for k := 0; k < o.kills; k++ {
		wait := o.killMin + rand.N(o.killMax-o.killMin+1)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return res, context.Cause(ctx)
		}
		li, err := waitLeader(ctx, procs[:], 30*time.Second)
		if err != nil {
			return res, err
		}
		if err := procs[li].Kill(); err != nil {
			return res, err
		}
		killed := time.Now()
		// The survivor alone: how long until it leads.
		if _, err := waitLeader(ctx, procs[1-li:2-li], 60*time.Second); err != nil {
			return res, fmt.Errorf("after killing the leader: %w", err)
		}
		gap := time.Since(killed)
		leaderless = max(leaderless, gap)
		o.logf("replicas: SIGKILL %d of the leader (replica %d) after %s; the other led %s later; %d alerts seen so far",
			k+1, li+1, wait.Round(time.Millisecond), gap.Round(time.Millisecond), recv.Count(klaxontest.TypeActive))
		if err := procs[li].Restart(ctx); err != nil {
			return res, err
		}
	}
	<-posted
	wctx, cancel := context.WithTimeout(ctx, o.deadline)
	defer cancel()
	werr := recv.Wait(wctx, klaxontest.TypeActive, len(ids))
	res.Time = time.Since(start)
	res.Restarts = procs[0].Restarts() + procs[1].Restarts()
	v := recv.Check(klaxontest.TypeActive, ids)
	res.Lost, res.Delivered = len(v.Missing), len(ids)-len(v.Missing)
	res.Duplicates, res.KeyConflicts = v.Duplicates, len(v.KeyConflicts)
	res.Attempts = recv.Stats().Calls
	res.OK = v.OK()
	res.Note = fmt.Sprintf("2 replicas on PostgreSQL, posted at %.0f alerts/s to either; the leader killed %d times; longest without a leader %s",
		o.killRate, o.kills, leaderless.Round(time.Millisecond))
	return res, assertDelivered(res, werr)
}

// startReplica starts replica i (its own address and data directory, the
// shared database).
func startReplica(ctx context.Context, o *options, hook string, i int) (*klaxontest.Process, error) {
	dir, err := os.MkdirTemp(o.tmp, fmt.Sprintf("replica%d-", i+1))
	if err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	addr, err := klaxontest.FreeAddr()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "klaxon.yml")
	if err := os.WriteFile(cfg, []byte(renderConfig(o, addr, filepath.Join(dir, "data"), hook, chaosRetry(o))), 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	pc := klaxontest.ProcessConfig{Bin: o.bin, ConfigFile: cfg, Addr: addr, Env: o.env}
	if o.verbose {
		pc.Log = os.Stderr
	}
	return klaxontest.StartProcess(ctx, pc)
}

// waitLeader returns the index in procs of the replica whose /metrics says
// it leads.
func waitLeader(ctx context.Context, procs []*klaxontest.Process, within time.Duration) (int, error) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for i, p := range procs {
			if p.Leading(ctx) {
				return i, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("no replica led within %s", within)
}
