package share

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/pizzapi/pizzapi/protocol/commands"
)

// Source is where a shared session's agent events come from and where its viewers' commands go:
// a pi agent in RPC mode (RPC), a recorded event stream (JSONL) or the built-in demo agent
// (package demo).
//
// The publisher calls Run once, after the session is registered with the relay, and calls Input
// and the command methods from other goroutines while Run is running.
type Source interface {
	// Run runs the agent. It publishes the agent's events and state changes through sink until
	// ctx ends (then it stops the agent and returns nil) or the agent stops by itself (it returns
	// nil for a normal end, the reason otherwise).
	Run(ctx context.Context, sink Sink) error
	// Input delivers a message a viewer typed.
	Input(ctx context.Context, in Input) error
	// Handler carries out viewers' remote commands (reference §3.1.4), one method per command of
	// the contract; a source embeds commands.UnimplementedHandler for the commands it does not
	// support. A source reports the state changes a command causes (model, thinking level, name,
	// transcript) through the Sink. The publisher answers end_session itself.
	commands.Handler
}

// Sink receives what a Source produces. Its methods may be called from any goroutine; calls are
// published in the order they are made.
type Sink interface {
	// Event publishes one agent event: a JSON object with a string "type" (pi's event shapes).
	// An event that does not match the contract is reported and dropped. The sink keeps ev: it
	// must not be modified afterwards.
	Event(ev json.RawMessage)
	// Update changes the session state that heartbeats and snapshots report (f runs with the
	// publisher's lock held) and publishes a heartbeat when the activity, model, thinking level or
	// name changed; with snapshot set it publishes a heartbeat and a session_active snapshot
	// (after the transcript changed as a whole: a new session, a compaction).
	Update(f func(*State), snapshot bool)
}

// Input is a viewer's message, with its attachments already fetched.
type Input struct {
	// Text is the message; attachments that are not images are described at its end.
	Text string
	// Images are the attached images.
	Images []Image
	// DeliverAs is how the message reaches a busy agent: "steer", "followUp" or "" (the source
	// decides).
	DeliverAs string
}

// Image is an attached image, as pi's ImageContent.
type Image struct {
	// Data is the image, base64-encoded.
	Data string `json:"data"`
	// MimeType is its media type, e.g. image/png.
	MimeType string `json:"mimeType"`
}

// ErrNotRunning is wrapped by Input and the command methods when the agent has not started yet or has stopped.
var ErrNotRunning = errors.New("the agent is not running")
