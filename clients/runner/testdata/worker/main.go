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
	c, err := sioclient.Dial(sioclient.Options{URL: env("PIZZAPI_RELAY_URL"), Namespace: relay.Namespace, Auth: map[string]any{"apiKey": env("PIZZAPI_API_KEY")}, Reconnect: true}, sioclient.Handler{
		OnConnect: func() {
			select {
			case connected <- struct{}{}:
			default:
			}
		},
		OnEvent: func(event string, payload []byte) { fmt.Printf("%s %s\n", event, payload) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	reg := relay.Register{SessionID: protocol.Some(env("PIZZAPI_SESSION_ID")), Cwd: env("PIZZAPI_WORKER_CWD")}
	for {
		select {
		case <-ctx.Done():
			fmt.Println("worker stopping")
			return
		case <-connected:
			if err := c.Send(relay.EventRegister, reg.AppendJSON(nil)); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
	}
}
