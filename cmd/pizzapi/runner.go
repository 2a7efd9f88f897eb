package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/pizzapi/pizzapi/clients/runner"
	"github.com/pizzapi/pizzapi/clients/settings"
)

// restartExitCode tells the daemon's supervisor to start it again (the relay asked for it).
const restartExitCode = 42

func runnerCommand() *cli.Command {
	return &cli.Command{
		Name:  "runner",
		Usage: "run the runner daemon: agent sessions and terminals on this machine, on request from the relay",
		Description: "Registers this machine with the relay (PIZZAPI_RELAY_URL and PIZZAPI_RUNNER_API_KEY or\n" +
			"PIZZAPI_API_KEY, or the settings `pizzapi login` saved) under a persistent id kept in\n" +
			"~/.pizzapi/runner.json. From the browser you can then start agent sessions (each runs as\n" +
			"`pizzapi share`, its output in ~/.pizzapi/logs), open shell terminals, browse files, see git\n" +
			"changes and edit skills (~/.pizzapi/skills/<name>/SKILL.md), all confined to the workspace\n" +
			"roots. One daemon runs per state file. It exits with code 42 when the relay asks for a\n" +
			"restart, for its supervisor to start it again.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "the runner's display name (default: the host name)", Sources: cli.EnvVars("PIZZAPI_RUNNER_NAME")},
			&cli.StringFlag{Name: "roots", Usage: "comma-separated workspace roots (default: the current directory)", Sources: cli.EnvVars("PIZZAPI_WORKSPACE_ROOTS", "PIZZAPI_WORKSPACE_ROOT", "PIZZAPI_RUNNER_ROOTS")},
			&cli.StringFlag{Name: "agent", Usage: "the agent command sessions run, e.g. \"pi --mode rpc\" (default: the demo agent)", Sources: cli.EnvVars("PIZZAPI_RUNNER_AGENT")},
			&cli.StringFlag{Name: "state", Usage: "the state file holding the runner's identity (default: ~/.pizzapi/runner.json)", Sources: cli.EnvVars("PIZZAPI_RUNNER_STATE_PATH")},
			&cli.StringFlag{Name: "skills-dir", Usage: "the skills directory (default: ~/.pizzapi/skills)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			fail := func(err error) error { return cli.Exit("pizzapi runner: "+err.Error(), 1) }
			s, err := settings.Load()
			if err != nil {
				return fail(err)
			}
			if key := os.Getenv("PIZZAPI_RUNNER_API_KEY"); key != "" {
				s.APIKey = key
			}
			roots := splitList(cmd.String("roots"))
			if len(roots) == 0 {
				wd, err := os.Getwd()
				if err != nil {
					return fail(err)
				}
				roots = []string{wd}
			}
			agent, err := splitCommand(cmd.String("agent"))
			if err != nil {
				return fail(fmt.Errorf("--agent: %w", err))
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			d, err := runner.New(runner.Config{
				RelayURL:     s.RelayURL,
				APIKey:       s.APIKey,
				StatePath:    cmd.String("state"),
				Name:         cmd.String("name"),
				Roots:        roots,
				SkillsDir:    cmd.String("skills-dir"),
				AgentCommand: agent,
				Logger:       log,
			})
			if err != nil {
				return fail(err)
			}
			defer d.Close()
			log.Info("runner starting", "runner", d.ID(), "relay", s.RelayURL, "roots", strings.Join(d.Roots(), ","), "pid", os.Getpid())
			switch err := d.Run(ctx); {
			case errors.Is(err, runner.ErrRestart):
				return cli.Exit(fmt.Sprintf("pizzapi runner: restarting at the relay's request (exit code %d)", restartExitCode), restartExitCode)
			case err != nil:
				return fail(err)
			}
			log.Info("runner stopped")
			return nil
		},
	}
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// splitCommand splits a command line into words the way a POSIX shell does for quoting: words
// are separated by blanks, 'single quotes' keep everything, "double quotes" keep everything but
// backslash escapes of " \ $ and `, and a backslash outside quotes escapes the next character.
// Nothing is expanded.
func splitCommand(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words, inWord = append(words, word.String()), false
				word.Reset()
			}
			continue
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			word.WriteByte(s[i])
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				word.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, errors.New("unterminated double quote")
			}
		default:
			word.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
