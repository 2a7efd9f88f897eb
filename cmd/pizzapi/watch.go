package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/pizzapi/pizzapi/clients/settings"
	"github.com/pizzapi/pizzapi/clients/watch"
)

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "list your live sessions, or follow one in the terminal",
		ArgsUsage: "[SESSION_ID]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "input", Usage: "send each line typed on standard input to the agent (collab mode; /stop aborts)"},
			&cli.BoolFlag{Name: "no-color", Usage: "plain output even on a terminal", Sources: cli.EnvVars("NO_COLOR")},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			s, err := settings.Require()
			if err != nil {
				return cli.Exit("pizzapi watch: "+err.Error(), 1)
			}
			o := watch.Options{URL: s.RelayURL, APIKey: s.APIKey, Out: os.Stdout,
				Color: !cmd.Bool("no-color") && term.IsTerminal(int(os.Stdout.Fd()))}
			var in io.Reader
			if cmd.Bool("input") {
				in = os.Stdin
			}
			o.Input = in
			if id := cmd.Args().First(); id != "" {
				err = watch.Follow(ctx, o, id)
			} else {
				err = watch.List(ctx, o)
			}
			if errors.Is(err, watch.ErrUnauthorized) {
				return cli.Exit("pizzapi watch: "+err.Error(), 1)
			}
			return err
		},
	}
}
