// Command pizzapi is the pizzapi relay and its clients in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	cmd := &cli.Command{
		Name:    "pizzapi",
		Usage:   "stream AI coding-agent sessions through a relay to browsers and terminals",
		Version: version,
		Commands: []*cli.Command{
			serveCommand(),
			benchCommand(),
			loginCommand(),
			runnerCommand(),
			watchCommand(),
			shareCommand(),
		},
	}
	// Signals are handled here, explicitly: the Socket.IO client library installs a handler of its
	// own at start-up, which would otherwise swallow the first SIGINT/SIGTERM.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.Run(ctx, os.Args); err != nil {
		var exit cli.ExitCoder
		if errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, "pizzapi:", err)
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "pizzapi:", err)
		os.Exit(1)
	}
}
