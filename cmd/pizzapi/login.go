package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/pizzapi/pizzapi/clients/login"
	"github.com/pizzapi/pizzapi/clients/settings"
)

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:  "login",
		Usage: "get an API key from a relay and save it in ~/.pizzapi/config.json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "server", Usage: "relay URL, e.g. http://localhost:3000", Sources: cli.EnvVars("PIZZAPI_RELAY_URL")},
			&cli.StringFlag{Name: "email", Usage: "account email (asked when missing)"},
			&cli.StringFlag{Name: "name", Usage: "display name of a new account"},
			&cli.StringFlag{Name: "password", Usage: "account password (prefer --password-stdin; asked when missing)"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			in := bufio.NewReader(os.Stdin)
			server := cmd.String("server")
			if server == "" {
				s, _ := settings.Load()
				server = s.RelayURL
			}
			if server == "" {
				return cli.Exit("pizzapi login: no relay URL: pass --server URL", 1)
			}
			email := cmd.String("email")
			if email == "" {
				var err error
				if email, err = prompt(in, "Email: "); err != nil {
					return cli.Exit("pizzapi login: "+err.Error(), 1)
				}
			}
			password, err := readPassword(in, cmd)
			if err != nil {
				return cli.Exit("pizzapi login: "+err.Error(), 1)
			}
			key, err := login.Register(ctx, server, cmd.String("name"), email, password)
			if err != nil {
				return cli.Exit("pizzapi login: "+err.Error(), 1)
			}
			if err := settings.Save(settings.Settings{RelayURL: server, APIKey: key}); err != nil {
				return cli.Exit("pizzapi login: saving the key: "+err.Error(), 1)
			}
			path, _ := settings.Path()
			fmt.Fprintf(os.Stderr, "Logged in to %s as %s; the API key is saved in %s.\n", settings.NormalizeURL(server), email, path)
			return nil
		},
	}
}

// prompt reads one line from the terminal or standard input.
func prompt(in *bufio.Reader, label string) (string, error) {
	fmt.Fprint(os.Stderr, label)
	line, err := in.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no input")
	}
	return strings.TrimSpace(line), nil
}

// readPassword takes the password from the flag, from standard input, or from the terminal
// without echo.
func readPassword(in *bufio.Reader, cmd *cli.Command) (string, error) {
	switch {
	case cmd.String("password") != "":
		return cmd.String("password"), nil
	case cmd.Bool("password-stdin") || !term.IsTerminal(int(os.Stdin.Fd())):
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(os.Stderr, "Password: ")
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}
