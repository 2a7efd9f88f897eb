package contracttest

import (
	"context"
	"errors"
	"testing"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
)

// agent is an agent-side command handler that answers set_thinking_level and nothing else.
type agent struct {
	commands.UnimplementedHandler
}

func (agent) SetThinkingLevel(_ context.Context, p *commands.SetThinkingLevelParams) (*commands.ThinkingLevelResult, error) {
	return &commands.ThinkingLevelResult{ThinkingLevel: &p.Level}, nil
}

// BenchmarkDispatchCommand measures what an agent does with a viewer's command: decode the
// /relay exec event, check the command's parameters and run it, encode its result.
func BenchmarkDispatchCommand(b *testing.B) {
	payload := []byte(`{"id":"web-mfx1-7","command":"set_thinking_level","level":"high"}`)
	ctx := context.Background()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		var e protocol.Exec
		if err := e.UnmarshalJSON(payload); err != nil {
			b.Fatal(err)
		}
		res, err := commands.Dispatch(ctx, agent{}, &e)
		if err != nil || string(res) != `{"thinkingLevel":"high"}` {
			b.Fatalf("%s %v", res, err)
		}
	}
}

// TestDispatchCommand: Dispatch answers the command, refuses parameters outside the contract,
// reports an unknown command in PizzaPi's words and an unsupported one as not implemented.
func TestDispatchCommand(t *testing.T) {
	run := func(payload string) ([]byte, error) {
		var e protocol.Exec
		if err := e.UnmarshalJSON([]byte(payload)); err != nil {
			t.Fatal(err)
		}
		return commands.Dispatch(context.Background(), agent{}, &e)
	}
	if res, err := run(`{"id":"1","command":"set_thinking_level","level":"low"}`); err != nil || string(res) != `{"thinkingLevel":"low"}` {
		t.Errorf("set_thinking_level: %s %v", res, err)
	}
	if _, err := run(`{"id":"1","command":"set_thinking_level","level":"max"}`); err == nil {
		t.Error("a level outside the contract was accepted")
	}
	if _, err := run(`{"id":"1","command":"set_thinking_level","level":"low","extra":1}`); err == nil {
		t.Error("an unknown parameter was accepted")
	}
	if _, err := run(`{"id":"1","command":"fly"}`); err == nil || err.Error() != "Unknown exec command: fly" {
		t.Errorf("unknown command: %v", err)
	}
	if _, err := run(`{"id":"1","command":"restart"}`); !errors.Is(err, protocol.ErrUnimplemented) || errors.Is(err, commands.ErrUnknownCommand) {
		t.Errorf("restart: %v", err)
	}
}
