// Command worker stands in for `pizzapi share` in the runner's tests: it registers the session
// it is given on /relay and stays connected until SIGTERM. It prints what it was given, which
// ends up in the session's log file. An initial prompt of "exit 43" makes it ask for a restart.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pizzapi/pizzapi/internal/sioclient"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/relay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := os.Getenv
	wd, _ := os.Getwd()
	fmt.Printf("worker session=%s cwd=%s wd=%s prompt=%q model=%s/%s\n", env("PIZZAPI_SESSION_ID"), env("PIZZAPI_WORKER_CWD"), wd,
		env("PIZZAPI_WORKER_INITIAL_PROMPT"), env("PIZZAPI_WORKER_INITIAL_MODEL_PROVIDER"), env("PIZZAPI_WORKER_INITIAL_MODEL_ID"))
	if env("PIZZAPI_WORKER_INITIAL_PROMPT") == "exit 43" {
		os.Exit(43)
	}
	connected := make(chan struct{}, 1)
	auth := &relay.Auth{APIKey: env("PIZZAPI_API_KEY")}
	c, err := relay.Dial(ctx, sioclient.Dialer{URL: env("PIZZAPI_RELAY_URL"), Reconnect: true}, auth, printer{}, protocol.Hooks{
		Connected: func() {
			select {
			case connected <- struct{}{}:
			default:
			}
		},
		EventFailed: func(event string, _ error) { fmt.Println(event) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c.Connect()
	defer c.Close()
	reg := relay.Register{SessionID: protocol.Some(env("PIZZAPI_SESSION_ID")), Cwd: env("PIZZAPI_WORKER_CWD")}
	for {
		select {
		case <-ctx.Done():
			fmt.Println("worker stopping")
			return
		case <-connected:
			if err := c.S.Send(relay.EventRegister, reg.AppendJSON(nil)); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
	}
}

// printer prints the relay's answer to the registration; the events the worker does not handle
// are printed by name (Hooks.EventFailed).
type printer struct {
	relay.UnimplementedClientHandler
}

// Registered implements relay.ClientHandler.
func (printer) Registered(_ context.Context, r *relay.Registered) error {
	fmt.Printf("%s %s\n", relay.EventRegistered, r.AppendJSON(nil))
	return nil
}
