package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestRefusedAckIsCodedError: the generated emitters return an event the relay refused (its
// ErrorMessage in place of the event's acknowledgement) as a *protocol.Error that matches its
// code's sentinel, not as an acknowledgement that does not decode.
func TestRefusedAckIsCodedError(t *testing.T) {
	n := servertest.Start(t)
	ada, bob := n.NewUser(t), n.NewUser(t)
	ctx := context.Background()
	cli := relay.ClientEmitter{S: n.Dial(t, "/relay", servertest.DialOptions{User: &ada})}
	if _, err := cli.Register(ctx, &relay.Register{SessionID: protocol.Some("s-ada"), Cwd: "/w"}); err != nil {
		t.Fatal(err)
	}

	// Another user's session id: the handler refuses it.
	other := relay.ClientEmitter{S: n.Dial(t, "/relay", servertest.DialOptions{User: &bob})}
	_, err := other.Register(ctx, &relay.Register{SessionID: protocol.Some("s-ada"), Cwd: "/w"})
	var pe *protocol.Error
	if !errors.Is(err, protocol.ErrForbidden) || !errors.As(err, &pe) || !strings.Contains(pe.Message, "belongs to another user") {
		t.Fatalf("registering another user's session: %v", err)
	}

	// A payload off the contract: the relay's validation refuses it.
	_, err = cli.Register(ctx, &relay.Register{Cwd: strings.Repeat("x", 5000)})
	if !errors.Is(err, protocol.ErrInvalid) || errors.Is(err, protocol.ErrForbidden) {
		t.Fatalf("registering an over-long cwd: %v", err)
	}

	// The same on /viewer: an exec without an id is refused, a valid one is acknowledged.
	v := viewer.ClientEmitter{S: n.Dial(t, "/viewer", servertest.DialOptions{User: &ada, Auth: map[string]any{"sessionId": "s-ada"}})}
	if _, err := v.Exec(ctx, &protocol.Exec{ID: "", Command: "abort"}); !errors.Is(err, protocol.ErrInvalid) {
		t.Fatalf("exec without an id: %v", err)
	}
	ack, err := v.Exec(ctx, &protocol.Exec{ID: "c-1", Command: "abort"})
	if err != nil || !ack.OK {
		t.Fatalf("exec: %+v %v", ack, err)
	}

	// A command the relay does not forward reaches commands.Caller with its code.
	if _, err := cli.Register(ctx, &relay.Register{SessionID: protocol.Some("s-solo"), Cwd: "/w", CollabMode: protocol.Some(false)}); err != nil {
		t.Fatal(err)
	}
	solo := n.Dial(t, "/viewer", servertest.DialOptions{User: &ada, Auth: map[string]any{"sessionId": "s-solo"}})
	solo.Next(t, "connected")
	caller := commands.Caller{X: &servertest.Executor{C: solo}}
	if err := caller.Abort(ctx, &commands.AbortParams{}); !errors.Is(err, protocol.ErrCollabDisabled) {
		t.Fatalf("abort without collab mode: %v", err)
	}
}
