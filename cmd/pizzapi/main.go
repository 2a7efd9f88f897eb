// Command pizzapi is the pizzapi relay and its clients in one binary.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v3"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	cmd := &cli.Command{
		Name:    "pizzapi",
		Usage:   "stream AI coding-agent sessions through a relay to browsers and terminals",
		Version: version,
	}
	if err := cmd.Run(context.Background(), os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "pizzapi:", err)
		os.Exit(1)
	}
}
