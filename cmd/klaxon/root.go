package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/klaxonhq/klaxon/internal/version"
)

// exitCode ends the program with a status and no further message (the
// command already printed what went wrong).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func asExit(err error, ec *exitCode) bool { return errors.As(err, ec) }

func newRootCmd(getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:           "klaxon",
		Short:         "klaxon is an alerting engine: rules over metrics, durable notifications",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(
		newServeCmd(getenv),
		newCheckConfigCmd(getenv),
		newTestChannelCmd(getenv),
		newVersionCmd(),
		newMCPCmd(getenv),
	)
	addClientCommands(root, getenv)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print klaxon's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "klaxon", version.Version)
			return nil
		},
	}
}
