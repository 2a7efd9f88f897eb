package share

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestEndSession: a viewer's end_session is answered, then the session ends and Run returns.
func TestEndSession(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{SessionID: "s-end", Source: &recordingSource{}})
	v := watch(t, n, u, "s-end", s.trace)
	v.Command("exec", map[string]any{"id": "bye", "command": "end_session"})
	if r := v.ExecResult("bye"); r["ok"] != true {
		t.Fatalf("exec_result: %v", r)
	}
	var d viewer.Disconnected
	v.C.NextInto(t, "disconnected", &d)
	if d.Reason != "Session ended" {
		t.Fatalf("disconnected: %q", d.Reason)
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(servertest.Timeout):
		t.Fatal("Run did not return")
	}
}

// TestUnauthorized: a refused API key ends Run at once with ErrUnauthorized; the source never
// starts.
func TestUnauthorized(t *testing.T) {
	n := servertest.Start(t)
	src := &recordingSource{}
	start := time.Now()
	err := Run(context.Background(), Options{RelayURL: n.URL, APIKey: "pzp_not-a-key", Source: src, Log: &syncbuf.Buffer{}, Out: &syncbuf.Buffer{}, ConnectTimeout: 2 * time.Second})
	if !errors.Is(err, ErrUnauthorized) || err.Error() != "the relay refused the API key: run pizzapi login" {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	if src.started {
		t.Fatal("the source was started")
	}
}

// TestRegistrationRefused: a session id that belongs to another user ends Run with the relay's
// reason.
func TestRegistrationRefused(t *testing.T) {
	n := servertest.Start(t)
	a, b := n.NewUser(t), n.NewUser(t)
	share(t, n, a, Options{SessionID: "s-taken", Source: &recordingSource{}})
	err := Run(context.Background(), Options{RelayURL: n.URL, APIKey: b.APIKey, SessionID: "s-taken", Source: &recordingSource{}, Log: &syncbuf.Buffer{}, Out: &syncbuf.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "belongs to another user") {
		t.Fatalf("Run: %v", err)
	}
}

// TestJSONL relays a recorded stream; invalid lines are reported and skipped.
func TestJSONL(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	stream := strings.Join([]string{
		`{"type":"agent_start"}`,
		`not json`,
		`{"no":"type"}`,
		`{"type":"message_end","message":{"role":"user","content":"hi","timestamp":1}}`,
		``,
		`{"type":"heartbeat"}`,
		`{"type":"message_end","message":{"role":"assistant","content":[{"type":"text","text":"hello"}],"timestamp":2}}`,
		`{"type":"agent_end","messages":[]}`,
	}, "\n")
	log := &syncbuf.Buffer{}
	src := &JSONL{R: strings.NewReader(stream), Name: "rec.jsonl", Log: log, EndAtEOF: false}
	s := share(t, n, u, Options{SessionID: "s-jsonl", Source: src})
	// Wait for the stream to be published, then watch: the greeting's snapshot carries the
	// transcript.
	s.trace.wait(t, `"agent_end"`)
	v := watch(t, n, u, "s-jsonl", s.trace)
	state := v.UntilType("session_active")
	if msgs := sharetest.Field[[]any](t, state[len(state)-1].Event.Raw, "state", "messages"); len(msgs) != 2 {
		t.Fatalf("snapshot: %s", state[len(state)-1].Event.Raw)
	}
	for _, want := range []string{"rec.jsonl line 2: skipped: not valid JSON", "rec.jsonl line 3: skipped", "rec.jsonl line 6: skipped"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("no %q in\n%s", want, log.String())
		}
	}
	v.Command("exec", map[string]any{"id": "a", "command": "abort"})
	if r := v.ExecResult("a"); r["ok"] != false || r["error"] != "abort is not supported by this agent" {
		t.Fatalf("exec_result: %v", r)
	}
}

// TestOversizedEvent: an event larger than the limit is replaced by a cli_error, and the stream
// goes on.
func TestOversizedEvent(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	start := make(chan struct{})
	src := &ticker{count: 3, gate: func(i int) {
		if i == 1 {
			<-start
		}
	}}
	big := strings.Repeat("x", 2000)
	s := share(t, n, u, Options{SessionID: "s-big", Source: &bigSource{src, big}, MaxEventBytes: 1000})
	v := watch(t, n, u, "s-big", s.trace)
	close(start)
	evs := v.Until(func(typ string, raw json.RawMessage) bool {
		return typ == "tick" && sharetest.Field[int](t, raw, "n") == 3
	})
	// The agent's answer to the viewer's greeting (capabilities, session_active) may come
	// anywhere in between; what matters is the order of the published events.
	var types []string
	for _, e := range evs {
		switch e.Event.Type {
		case "cli_error", "tick", "tool_execution_update":
			types = append(types, e.Event.Type)
		}
	}
	if got := strings.Join(types, " "); got != "cli_error tick tick" {
		t.Fatalf("published events: %s, want the oversized one replaced by cli_error, then the ticks", got)
	}
}

// bigSource publishes a big event before the ticks.
type bigSource struct {
	*ticker
	big string
}

func (b *bigSource) Run(ctx context.Context, sink Sink) error {
	return b.ticker.Run(ctx, bigSink{sink, b.big})
}

type bigSink struct {
	Sink
	big string
}

func (b bigSink) Event(ev json.RawMessage) {
	if strings.Contains(string(ev), `"n":1}`) {
		ev = json.RawMessage(`{"type":"tool_execution_update","output":"` + b.big + `"}`)
	}
	b.Sink.Event(ev)
}

// recordingSource is a Source that does nothing but say whether it ran.
type recordingSource struct {
	commands.UnimplementedHandler
	started bool
}

func (r *recordingSource) Run(ctx context.Context, _ Sink) error {
	r.started = true
	<-ctx.Done()
	return nil
}
func (r *recordingSource) Input(context.Context, Input) error { return nil }
