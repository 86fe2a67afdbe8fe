package klaxontest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNoGo is returned by Build when the go command is not on PATH.
var ErrNoGo = errors.New("the go command is not on PATH")

// ErrNotReady is returned by Start when the process does not answer /readyz
// in time or exits first.
var ErrNotReady = errors.New("klaxon did not become ready")

// ModuleRoot finds the directory of klaxon's go.mod, walking up from the
// working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/klaxonhq/klaxon\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root: no klaxon go.mod above the working directory")
		}
		dir = parent
	}
}

// Build compiles ./cmd/klaxon into dir, as it ships (a static binary,
// CGO_ENABLED=0, see docs/getting-started.md), and returns the binary's
// path.
func Build(ctx context.Context, dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", ErrNoGo
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "klaxon")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/klaxon")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/klaxon: %w\n%s", err, out)
	}
	return bin, nil
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ProcessConfig says how to run `klaxon serve`.
type ProcessConfig struct {
	// Bin is the klaxon binary; required.
	Bin string
	// ConfigFile is passed as --config; required.
	ConfigFile string
	// Addr is the listen address (--listen); required, so restarts keep it.
	Addr string
	// Log receives the process's stdout and stderr; default: kept in memory
	// (last 64 KiB, see Process.Log).
	Log io.Writer
	// ReadyTimeout bounds the wait for /readyz; default 60s.
	ReadyTimeout time.Duration
	// Env is added to the process's environment.
	Env []string
	// Args are further `klaxon serve` flags (--pprof, say).
	Args []string
}

// Process is a `klaxon serve` child process that can be killed and started
// again on the same configuration (and so the same data directory and
// address).
type Process struct {
	cfg ProcessConfig

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	log      *tailBuffer
	restarts int
}

// StartProcess starts klaxon and waits until it answers /readyz.
func StartProcess(ctx context.Context, cfg ProcessConfig) (*Process, error) {
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	p := &Process{cfg: cfg, log: &tailBuffer{max: 64 << 10}}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// URL is the API's base URL.
func (p *Process) URL() string { return "http://" + p.cfg.Addr }

// Leading reports whether the process says it leads its replica set
// (klaxon_leader 1 on /metrics); false when it does not answer within a
// second.
func (p *Process) Leading(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+"/metrics", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(raw), "\nklaxon_leader 1\n")
}

// Pid is the running process's id.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Restarts counts the starts after the first.
func (p *Process) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Log returns the tail of the process's output (when ProcessConfig.Log is
// nil).
func (p *Process) Log() string { return p.log.String() }

func (p *Process) start(ctx context.Context) error {
	args := append([]string{"serve", "--config", p.cfg.ConfigFile, "--listen", p.cfg.Addr, "--log-level", "warn"}, p.cfg.Args...)
	cmd := exec.Command(p.cfg.Bin, args...)
	var out io.Writer = p.log
	if p.cfg.Log != nil {
		out = p.cfg.Log
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), p.cfg.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start klaxon: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, p.cfg.ReadyTimeout)
	defer cancel()
	if err := WaitReady(rctx, p.URL(), done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("%w: %w; output:\n%s", ErrNotReady, err, p.log.String())
	}
	return nil
}

// WaitReady polls base+"/readyz" until it answers 200, ctx ends, or exited
// (when not nil) is closed.
func WaitReady(ctx context.Context, base string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-exited:
			return errors.New("process exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill klaxon: %w", err)
	}
	<-done
	return nil
}

// Restart starts the process again (after Kill or Stop) and waits for
// /readyz.
func (p *Process) Restart(ctx context.Context) error {
	p.mu.Lock()
	p.restarts++
	p.mu.Unlock()
	return p.start(ctx)
}

// Stop sends SIGTERM and waits for the process to exit, killing it when ctx
// ends first.
func (p *Process) Stop(ctx context.Context) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	select {
	case <-done:
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("stop klaxon: %w", context.Cause(ctx))
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// ProcStat is a process's resource use read from /proc.
type ProcStat struct {
	// PeakRSS is VmHWM in bytes.
	PeakRSS int64
	// RSS is VmRSS in bytes.
	RSS int64
	// CPU is user plus system time.
	CPU time.Duration
}

// clockTick is USER_HZ, 100 on every Linux this runs on.
const clockTick = 100

// ReadProcStat reads /proc/PID/status and /proc/PID/stat (Linux only).
func ReadProcStat(pid int) (ProcStat, error) {
	var s ProcStat
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("proc status: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		switch line := sc.Text(); {
		case strings.HasPrefix(line, "VmHWM:"):
			_, _ = fmt.Sscanf(strings.TrimPrefix(line, "VmHWM:"), "%d", &kb)
			s.PeakRSS = kb << 10
		case strings.HasPrefix(line, "VmRSS:"):
			_, _ = fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%d", &kb)
			s.RSS = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("proc stat: %w", err)
	}
	// Fields after the command name, which ends with the last ')': state is
	// field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, errors.New("proc stat: no command name")
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return s, errors.New("proc stat: too few fields")
	}
	var ut, st int64
	_, _ = fmt.Sscanf(fields[11], "%d", &ut)
	_, _ = fmt.Sscanf(fields[12], "%d", &st)
	s.CPU = time.Duration(ut+st) * time.Second / clockTick
	return s, nil
}
