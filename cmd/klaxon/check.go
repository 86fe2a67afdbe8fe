package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/internal/version"
	"github.com/klaxonhq/klaxon/notify"
	"github.com/klaxonhq/klaxon/store"
)

func newCheckConfigCmd(getenv func(string) string) *cobra.Command {
	return &cobra.Command{
		Use:   "check-config FILE",
		Short: "Check a configuration file; print each problem as FILE:LINE:COL: field: message",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := klaxon.LoadConfig(args[0], getenv)
			if err != nil {
				printProblems(cmd, err)
				return fail(cmd, 1)
			}
			// What Load accepts but serve would refuse: CA files that do
			// not read, a database_url pgx cannot parse.
			if probs := checkBeyondLoad(args[0], cfg); len(probs) > 0 {
				printProblems(cmd, probs)
				return fail(cmd, 1)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}
}

// fail ends cmd with an exit status after it printed what went wrong
// itself, so cobra does not add "Error: exit status N".
func fail(cmd *cobra.Command, code int) error {
	cmd.SilenceErrors = true
	return exitCode(code)
}

// printProblems prints config problems one per line, or the error itself.
func printProblems(cmd *cobra.Command, err error) {
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(cmd.ErrOrStderr(), p.String())
		}
		return
	}
	fmt.Fprintln(cmd.ErrOrStderr(), err)
}

func versionString() string { return version.Version }

func newTestChannelCmd(getenv func(string) string) *cobra.Command {
	var file string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "test-channel NAME",
		Short: "Send a sample notification through one channel and print what the receiver answered",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := []klaxon.Option{klaxon.FromEnv(), klaxon.WithGetenv(getenv)}
			// The flag's default must not override the file's data_dir.
			if dd := cmd.Flags().Lookup("data-dir"); dd.Changed || file == "" {
				opts = append(opts, klaxon.WithDataDir(dd.Value.String()))
			}
			if file != "" {
				cfg, err := klaxon.LoadConfig(file, getenv)
				if err != nil {
					printProblems(cmd, err)
					return fail(cmd, 1)
				}
				opts = append(opts, klaxon.WithConfig(cfg))
			}
			eng, err := klaxon.New(opts...)
			if err != nil {
				return err
			}
			defer eng.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			start := time.Now()
			rc, err := eng.TestChannel(ctx, args[0])
			elapsed := time.Since(start).Round(time.Millisecond)
			if errors.Is(err, store.ErrNotFound) {
				var known []string
				for _, h := range eng.Channels() {
					known = append(known, h.Name)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "channel %s is not configured (known: %s)\n", args[0], strings.Join(known, ", "))
				return fail(cmd, 1)
			}
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "channel %s: FAILED after %s: %s\n", args[0], elapsed, notify.Describe(err))
				return fail(cmd, 1)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "channel %s: ok in %s", args[0], elapsed)
			if rc.StatusCode != 0 {
				fmt.Fprintf(cmd.OutOrStdout(), ", status %d", rc.StatusCode)
			}
			if rc.Detail != "" {
				fmt.Fprintf(cmd.OutOrStdout(), ", receiver answered: %s", rc.Detail)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "configuration file (default: channels from MCP_ALERT_* variables)")
	cmd.Flags().String("data-dir", "./klaxon-data", "data directory")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait for the receiver")
	return cmd
}
