package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/pizzapi/pizzapi/clients/settings"
	"github.com/pizzapi/pizzapi/clients/share"
	"github.com/pizzapi/pizzapi/clients/share/demo"
	"github.com/pizzapi/pizzapi/protocol"
)

// workerRestartExitCode is the exit code of a worker whose agent a viewer restarted: the runner
// starts the worker again (PizzaPi's convention, clients/runner).
const workerRestartExitCode = 43

func shareCommand() *cli.Command {
	return &cli.Command{
		Name:  "share",
		Usage: "publish an agent session on the relay for viewers in a browser or terminal",
		ArgsUsage: "-- CMD [ARGS...]   run an agent in pi's RPC mode (e.g. -- pi --mode rpc)\n" +
			"   or: pizzapi share --jsonl FILE|-   relay a recorded JSON-lines event stream\n" +
			"   or: pizzapi share --demo           run the built-in scripted demo agent",
		Description: "Registers one session with the relay (PIZZAPI_RELAY_URL and PIZZAPI_API_KEY, or the\n" +
			"settings `pizzapi login` saved), prints its share URL and streams the agent's events.\n" +
			"Viewers in collab mode can type into the agent, switch its model and run commands.\n" +
			"The stream survives lost connections without gaps. Ctrl-C ends the session.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "session-id", Usage: "the session's id (default: a new UUID)", Sources: cli.EnvVars("PIZZAPI_SESSION_ID")},
			&cli.StringFlag{Name: "name", Usage: "the session's display name"},
			&cli.StringFlag{Name: "cwd", Usage: "the agent's working directory (default: the current directory)", Sources: cli.EnvVars("PIZZAPI_WORKER_CWD")},
			&cli.StringFlag{Name: "prompt", Usage: "send `TEXT` to the agent as its first message", Sources: cli.EnvVars("PIZZAPI_WORKER_INITIAL_PROMPT")},
			&cli.StringFlag{Name: "model-provider", Usage: "with --model-id: switch the agent to this model's `PROVIDER` first", Sources: cli.EnvVars("PIZZAPI_WORKER_INITIAL_MODEL_PROVIDER")},
			&cli.StringFlag{Name: "model-id", Usage: "with --model-provider: the model's `ID`", Sources: cli.EnvVars("PIZZAPI_WORKER_INITIAL_MODEL_ID")},
			&cli.BoolFlag{Name: "persistent", Usage: "keep the session instead of letting it expire after inactivity"},
			&cli.BoolFlag{Name: "no-tools", Usage: "with -- CMD: do not load PizzaPi's agent tools into the agent (pi -e; for agents other than pi)"},
			&cli.StringFlag{Name: "jsonl", Usage: "relay the recorded JSON-lines event stream in `FILE` (- for standard input)"},
			&cli.BoolFlag{Name: "end-at-eof", Usage: "with --jsonl: end the session when the stream ends (default: stay open until Ctrl-C)"},
			&cli.BoolFlag{Name: "demo", Usage: "run the built-in scripted demo agent"},
			&cli.Float64Flag{Name: "demo-speed", Value: 1, Usage: "pace of the demo agent (2 is twice as fast; 0 streams without pauses)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			fail := func(err error) error { return cli.Exit("pizzapi share: "+err.Error(), 1) }
			argv := cmd.Args().Slice()
			sources := 0
			for _, set := range []bool{len(argv) > 0, cmd.String("jsonl") != "", cmd.Bool("demo")} {
				if set {
					sources++
				}
			}
			if sources != 1 {
				return fail(errors.New("choose one event source: -- CMD ARGS..., --jsonl FILE|- or --demo"))
			}
			if (cmd.String("model-provider") == "") != (cmd.String("model-id") == "") {
				return fail(errors.New("--model-provider and --model-id go together"))
			}
			s, err := settings.Require()
			if err != nil {
				return fail(err)
			}
			cwd := cmd.String("cwd")
			if cwd == "" {
				if cwd, err = os.Getwd(); err != nil {
					return fail(err)
				}
			}
			o := share.Options{
				RelayURL:    s.RelayURL,
				APIKey:      s.APIKey,
				SessionID:   cmd.String("session-id"),
				Cwd:         cwd,
				SessionName: cmd.String("name"),
				Persistent:  cmd.Bool("persistent"),
				// The runner passes what a spawn request asked for in the environment.
				InitialPrompt: cmd.String("prompt"),
			}
			if prov := cmd.String("model-provider"); prov != "" {
				o.InitialModel = &protocol.AgentModel{Provider: prov, ID: cmd.String("model-id")}
			}
			switch {
			case cmd.Bool("demo"):
				// Given a first message, the demo answers it instead of playing its opening.
				o.Source = &demo.Demo{Speed: cmd.Float64("demo-speed"), NoOpening: o.InitialPrompt != ""}
			case cmd.String("jsonl") != "":
				name := cmd.String("jsonl")
				var r io.Reader = os.Stdin
				if name != "-" {
					f, err := os.Open(name)
					if err != nil {
						return fail(err)
					}
					defer f.Close()
					r = f
				}
				o.Source = &share.JSONL{R: r, Name: name, EndAtEOF: cmd.Bool("end-at-eof")}
			default:
				// PizzaPi's agent tools (questions to viewers, messages between sessions, spawning,
				// the todo list) are a pi extension the binary carries.
				o.Source = &share.RPC{Argv: argv, Dir: cwd, Extension: !cmd.Bool("no-tools")}
			}
			if err := share.Run(ctx, o); err != nil {
				if errors.Is(err, share.ErrRestart) {
					// A viewer restarted the agent: the runner starts this worker again.
					return cli.Exit("", workerRestartExitCode)
				}
				return fail(err)
			}
			return nil
		},
	}
}
