// Command klaxon runs the klaxon alerting engine (`klaxon serve`), checks
// configuration files, tests channels, and is a client of a running
// klaxon's HTTP API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd(os.Getenv).ExecuteContext(ctx); err != nil {
		var ec exitCode
		if asExit(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "klaxon:", err)
		os.Exit(1)
	}
}
