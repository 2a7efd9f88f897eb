package share

import (
	"context"
	"errors"
	"time"

	"github.com/pizzapi/pizzapi/protocol/commands"
)

// startWait bounds how long the initial model and prompt wait for the agent to start.
const startWait = 30 * time.Second

// startAgent applies Options.InitialModel and sends Options.InitialPrompt once the agent
// accepts commands. A failure is published as a cli_error, as for a viewer's message.
func (p *publisher) startAgent(ctx context.Context) {
	if m := p.o.InitialModel; m != nil {
		cmd := &commands.SetModelParams{Provider: m.Provider, ModelID: m.ID}
		if err := whenRunning(ctx, func() error { return p.src.SetModel(ctx, cmd) }); err != nil {
			p.logf("initial model %s/%s: %v", m.Provider, m.ID, err)
			p.publish(cliErrorEvent("Could not switch to the model "+m.Provider+"/"+m.ID+": "+err.Error(), "pizzapi share"))
		}
	}
	if text := p.o.InitialPrompt; text != "" {
		if err := whenRunning(ctx, func() error { return p.src.Input(ctx, Input{Text: text}) }); err != nil {
			p.logf("initial prompt: %v", err)
			p.publish(cliErrorEvent("Could not deliver the initial prompt: "+err.Error(), "pizzapi share"))
		}
	}
}

// whenRunning calls f until it succeeds or fails for another reason than the agent not running
// yet, for at most startWait.
func whenRunning(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(startWait)
	for {
		err := f()
		if !errors.Is(err, ErrNotRunning) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
