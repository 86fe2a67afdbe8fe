package metric

import (
	"sync"
	"sync/atomic"
	"time"
)

// clockTick is how often the cached clock re-reads the time: the most a
// recorded sample's time can lag behind.
const clockTick = 100 * time.Millisecond

// clock gives recording its time in unix seconds. Reading the system clock
// costs 30 ns to several hundred on virtual machines (kvm-clock under load),
// more than the whole recording budget, so unless a test clock is injected
// the current second is cached in an atomic that a timer refreshes every
// clockTick. No goroutine lives between ticks.
type clock struct {
	now    func() time.Time // injected test clock, or nil
	cached atomic.Int64     // unix seconds; 0 once stopped

	mu      sync.Mutex
	timer   *time.Timer // guarded by mu
	stopped bool        // guarded by mu
}

func newClock(now func() time.Time) *clock {
	c := &clock{now: now}
	if now == nil {
		c.cached.Store(time.Now().Unix())
		c.mu.Lock()
		c.timer = time.AfterFunc(clockTick, c.tick)
		c.mu.Unlock()
	}
	return c
}

func (c *clock) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.cached.Store(time.Now().Unix())
	c.timer.Reset(clockTick)
}

// sec returns the current unix second.
func (c *clock) sec() int64 {
	if c.now != nil {
		return c.now().Unix()
	}
	if s := c.cached.Load(); s != 0 {
		return s
	}
	return time.Now().Unix() // stopped: read the clock itself
}

// stop ends the refresh timer; sec then reads the system clock.
func (c *clock) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer == nil || c.stopped {
		return
	}
	c.stopped = true
	c.timer.Stop()
	c.cached.Store(0)
}
