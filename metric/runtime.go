package metric

import (
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
)

// RuntimeCollector is a Provider of the Go process's own health:
//
//   - memory_usage: MB (2^20 bytes) of heap in use (live and not yet swept
//     objects plus fragmentation in in-use spans) plus goroutine stacks, from
//     runtime/metrics (/memory/classes/heap/objects, /memory/classes/heap/unused,
//     /memory/classes/heap/stacks), which does not stop the world.
//   - cpu_usage: percent of one core this process used (user + system, from
//     getrusage) since the previous reading; the first reading covers the time
//     since the collector was made. Above 100 on several cores.
//   - goroutines: the number of goroutines.
//   - disk_usage: percent used of the filesystem holding the data directory,
//     as df counts it (used / (used + available to unprivileged users)).
//
// It is safe for concurrent use.
type RuntimeCollector struct {
	dataDir string

	mu      sync.Mutex
	samples []metrics.Sample // guarded by mu
	lastCPU time.Duration    // guarded by mu
	lastAt  time.Time        // guarded by mu
	lastPct float64          // guarded by mu
}

var _ Provider = (*RuntimeCollector)(nil)

// NewRuntimeCollector returns a collector whose disk_usage reports the
// filesystem of dataDir ("" means ".").
func NewRuntimeCollector(dataDir string) *RuntimeCollector {
	if dataDir == "" {
		dataDir = "."
	}
	c := &RuntimeCollector{dataDir: dataDir, samples: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}}
	c.lastCPU, _ = processCPU()
	c.lastAt = time.Now()
	return c
}

// Names lists the collector's metrics.
func (c *RuntimeCollector) Names() []string {
	return []string{NameMemoryUsage, NameCPUUsage, NameGoroutines, NameDiskUsage}
}

// Value reads one metric now.
func (c *RuntimeCollector) Value(name string) (float64, bool) {
	switch name {
	case NameMemoryUsage, NameGoroutines:
		c.mu.Lock()
		defer c.mu.Unlock()
		metrics.Read(c.samples)
		if name == NameGoroutines {
			return float64(c.samples[3].Value.Uint64()), true
		}
		var b uint64
		for _, s := range c.samples[:3] {
			b += s.Value.Uint64()
		}
		return float64(b) / (1 << 20), true
	case NameCPUUsage:
		return c.cpu()
	case NameDiskUsage:
		return diskUsage(c.dataDir)
	}
	return 0, false
}

// cpu returns the CPU percentage since the previous call. Two calls closer
// than 100ms apart share a reading, so querying does not produce noise.
func (c *RuntimeCollector) cpu() (float64, bool) {
	used, err := processCPU()
	if err != nil {
		return 0, false
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := now.Sub(c.lastAt)
	if wall < 100*time.Millisecond {
		return c.lastPct, true
	}
	c.lastPct = 100 * float64(used-c.lastCPU) / float64(wall)
	c.lastCPU, c.lastAt = used, now
	return c.lastPct, true
}

// Metadata gives each metric's unit and source.
func (c *RuntimeCollector) Metadata(name string) map[string]string {
	var unit, desc string
	switch name {
	case NameMemoryUsage:
		unit, desc = "MB", "Go heap in use plus goroutine stacks"
	case NameCPUUsage:
		unit, desc = "percent", "CPU time of this process as a percentage of one core since the previous reading"
	case NameGoroutines:
		unit, desc = "goroutines", "number of goroutines"
	case NameDiskUsage:
		unit, desc = "percent", "used space of the filesystem holding "+c.dataDir
	default:
		return nil
	}
	return map[string]string{"source": "runtime", "unit": unit, "description": desc}
}

func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func diskUsage(dir string) (float64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	used := st.Blocks - st.Bfree
	total := used + st.Bavail
	if total == 0 {
		return 0, false
	}
	return 100 * float64(used) / float64(total), true
}
