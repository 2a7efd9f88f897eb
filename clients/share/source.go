package share

import (
	"context"
	"encoding/json"
	"errors"
)

// Source is where a shared session's agent events come from and where its viewers' commands go:
// a pi agent in RPC mode (RPC), a recorded event stream (JSONL) or the built-in demo agent (Demo).
//
// The publisher calls Run once, after the session is registered with the relay, and calls Input
// and Exec from other goroutines while Run is running.
type Source interface {
	// Run runs the agent. It publishes the agent's events and state changes through sink until
	// ctx ends (then it stops the agent and returns nil) or the agent stops by itself (it returns
	// nil for a normal end, the reason otherwise).
	Run(ctx context.Context, sink Sink) error
	// Input delivers a message a viewer typed.
	Input(ctx context.Context, in Input) error
	// Exec carries out a viewer's remote command (reference §3.1.4) and returns its result, nil
	// for none. A command the source does not know returns an error wrapping ErrUnknownCommand.
	// A source reports the state changes a command causes (model, thinking level, name,
	// transcript) through the Sink.
	Exec(ctx context.Context, cmd Command) (json.RawMessage, error)
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

// Command is a viewer's remote command: its name and parameters (the fields of the `exec`
// payload beside `id` and `command`).
type Command struct {
	Name   string
	Params map[string]json.RawMessage
}

// String returns the string parameter key ("" when absent or not a string).
func (c Command) String(key string) string {
	var s string
	if raw, ok := c.Params[key]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// Has reports whether parameter key is present.
func (c Command) Has(key string) bool {
	_, ok := c.Params[key]
	return ok
}

// ErrNotRunning is wrapped by Input and Exec when the agent has not started yet or has stopped.
var ErrNotRunning = errors.New("the agent is not running")

// ErrUnknownCommand is wrapped by Exec for commands a source does not know; the viewer gets
// "Unknown exec command: NAME".
var ErrUnknownCommand = errors.New("unknown exec command")
