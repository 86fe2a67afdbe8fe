package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/alert"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/notify/console"
)

func newServeCmd(getenv func(string) string) *cobra.Command {
	var file, dataDir, listen, logLevel string
	var profiling bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the engine, the HTTP API and the dashboard",
		Long: `Run the engine, the HTTP API and the dashboard.

With no --config, klaxon runs on the embedded default: SQLite in ./klaxon-data,
a console channel, the built-in runtime rules, and every channel that the
MCP_ALERT_* environment variables describe.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			opts := []klaxon.Option{klaxon.WithLogger(log), klaxon.FromEnv(), klaxon.WithGetenv(getenv)}
			if file != "" {
				cfg, err := klaxon.LoadConfig(file, getenv)
				if err != nil {
					printProblems(cmd, err)
					return fail(cmd, 1)
				}
				// What check-config finds beyond Load (a database_url
				// pgx cannot parse, a CA file that does not read) stops
				// serve the same way, at the field's line, before the
				// store or a channel refuses it with less to go on.
				if probs := checkBeyondLoad(file, cfg); len(probs) > 0 {
					printProblems(cmd, probs)
					return fail(cmd, 1)
				}
				opts = append(opts, klaxon.WithConfig(cfg))
			} else {
				opts = append(opts, klaxon.WithConfig(embeddedDefault()))
			}
			if dataDir != "" {
				opts = append(opts, klaxon.WithDataDir(dataDir))
			}
			if profiling {
				opts = append(opts, klaxon.WithProfiling())
			} else {
				// Nothing can read a heap profile without --pprof, so the
				// runtime need not sample allocations for one: its table
				// of sampled call stacks grows to about 1.5 MB in a burst.
				runtime.MemProfileRate = 0
			}
			l := listen
			if l == "" {
				l = defaultListen(file, getenv)
			}
			opts = append(opts, klaxon.WithListen(l))
			eng, err := klaxon.New(opts...)
			if err != nil {
				// Configuration problems (MCP_ALERT_* variables among them)
				// one per line, naming what is wrong.
				printProblems(cmd, err)
				return fail(cmd, 1)
			}
			go releaseAfterBursts(cmd.Context(), 2*time.Second)
			go func() {
				<-eng.Ready()
				fmt.Fprintf(cmd.ErrOrStderr(), "klaxon %s serving on http://%s (dashboard at /, API at /api/v1)\n", versionString(), eng.Addr())
			}()
			return eng.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "configuration file (YAML); default: the embedded default")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "directory of the SQLite store (default ./klaxon-data)")
	cmd.Flags().StringVar(&listen, "listen", "", "HTTP listen address (default 127.0.0.1:9095)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().BoolVar(&profiling, "pprof", false, "serve Go runtime profiles at /debug/pprof/")
	return cmd
}

// defaultListen is the file's listen address, else 127.0.0.1:9095.
func defaultListen(file string, getenv func(string) string) string {
	if file != "" {
		if cfg, err := klaxon.LoadConfig(file, getenv); err == nil && cfg.Server.Listen != "" {
			return cfg.Server.Listen
		}
	}
	return "127.0.0.1:9095"
}

// embeddedDefault is what `klaxon serve` runs without a file: a console
// channel and the built-in runtime rules.
func embeddedDefault() *config.Config {
	cfg := config.Default()
	if cfg.Channels == nil {
		cfg.Channels = map[string]*config.Channel{}
	}
	if _, ok := cfg.Channels["console"]; !ok {
		cfg.Channels["console"] = &config.Channel{Name: "console", Type: "console", Config: &console.Config{}}
	}
	if len(cfg.Rules) == 0 {
		cfg.Rules = runtimeRules()
	}
	// No routes, so that FromEnv's default routes cover the console and
	// every MCP_ALERT_* channel (Default's own route only reaches the
	// console, and ApplyEnv keeps existing routes).
	cfg.Routes = nil
	return cfg
}

// runtimeRules watch the process itself, and the classic error-rate rule of
// the original request so pushed error_rate samples alert out of the box.
func runtimeRules() []*config.Rule {
	return []*config.Rule{
		{ID: "high_error_rate", Name: "High error rate", Condition: "error_rate > 0.05", Severity: alert.Critical,
			Summary: "Error rate is {{ percent .Value }} (threshold 5%)"},
		{ID: "high_memory_usage", Name: "High memory usage", Condition: "memory_usage > 1024", For: 5 * time.Minute,
			Severity: alert.High, Summary: "klaxon uses {{ humanize .Value }} MB of memory"},
		{ID: "disk_almost_full", Name: "Data disk almost full", Condition: "disk_usage > 90", For: 5 * time.Minute,
			Severity: alert.High, Summary: "The data directory's filesystem is {{ printf \"%.0f\" .Value }}% full"},
		{ID: "goroutine_leak", Name: "Goroutine count high", Condition: "goroutines > 10000", For: 10 * time.Minute,
			Severity: alert.Medium, Summary: "{{ .Value }} goroutines are running"},
	}
}
