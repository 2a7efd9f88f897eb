package share

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestDemoEndToEnd publishes the demo agent and watches it: the viewer sees every event in
// order, the greeting is answered with capabilities and a snapshot, a message typed by the viewer
// reaches the agent and the reply streams back, model changes and queries are answered, and
// stopping ends the session for the viewer.
func TestDemoEndToEnd(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	gate := make(chan struct{})
	s := share(t, n, u, Options{SessionID: "s-demo", Source: &Demo{Speed: 25, gate: gate}})
	if !strings.Contains(s.out.String(), "/session/s-demo") {
		t.Fatalf("share URL not printed: %q", s.out.String())
	}
	v := watch(t, n, u, "s-demo", s.trace)
	close(gate)

	// The greeting is answered with the capabilities and a snapshot; the scripted opening
	// streams to its end.
	var types []string
	for _, e := range v.until(func(typ string, raw json.RawMessage) bool {
		return typ == "agent_end" && len(field[[]any](t, raw, "messages")) > 5
	}) {
		types = append(types, e.Event.Type)
	}
	joined := " " + strings.Join(types, " ") + " "
	for _, want := range []string{"capabilities", "session_active", "message_update", "tool_execution_start", "tool_execution_update", "tool_execution_end", "todo_update", "turn_end"} {
		if !strings.Contains(joined, " "+want+" ") {
			t.Errorf("no %s event in the opening: %v", want, types)
		}
	}
	var caps json.RawMessage
	for _, e := range v.seen {
		if e.Event.Type == "capabilities" {
			caps = e.Event.Raw
		}
	}
	if len(field[[]any](t, caps, "models")) != len(demoModels) || len(field[[]any](t, caps, "commands")) == 0 {
		t.Fatalf("capabilities: %s", caps)
	}

	// Collab input starts a run whose reply streams back and mentions the message.
	v.command("input", map[string]any{"text": "hello from the test", "attachments": []any{}, "client": "web"})
	deltas, reply := 0, ""
	for _, e := range v.untilType("agent_end") {
		if e.Event.Type == "message_update" && field[string](t, e.Event.Raw, "assistantMessageEvent", "type") == "text_delta" {
			deltas++
		}
		if e.Event.Type == "message_end" {
			reply += assistantText(t, e.Event.Raw)
		}
	}
	if !strings.Contains(reply, "hello from the test") || deltas < 10 {
		t.Fatalf("reply with %d deltas: %q", deltas, reply)
	}
	hb := v.untilType("heartbeat")
	if field[bool](t, hb[len(hb)-1].Event.Raw, "active") {
		t.Fatalf("heartbeat after agent_end: %s", hb[len(hb)-1].Event.Raw)
	}

	// model_set: model_set_result, then a heartbeat with the new model.
	v.command("model_set", map[string]any{"provider": "openai", "modelId": "gpt-5"})
	evs := v.untilType("model_set_result")
	if len(evs) < 2 || evs[len(evs)-2].Event.Type != "heartbeat" || field[string](t, evs[len(evs)-2].Event.Raw, "model", "id") != "gpt-5" {
		t.Fatalf("after model_set: %v", evs)
	}
	if r := evs[len(evs)-1].Event.Raw; !field[bool](t, r, "ok") || field[string](t, r, "modelId") != "gpt-5" {
		t.Fatalf("model_set_result: %s", r)
	}
	// set_model through exec: exec_result too; an unknown model fails.
	v.command("exec", map[string]any{"id": "c-1", "command": "set_model", "provider": "nope", "modelId": "x"})
	if r := v.execResult("c-1"); r["ok"] != false || r["error"] != "Model not found: nope/x" {
		t.Fatalf("exec_result: %v", r)
	}
	if r := v.untilType("model_set_result"); field[bool](t, r[len(r)-1].Event.Raw, "ok") {
		t.Fatalf("model_set_result: %s", r[len(r)-1].Event.Raw)
	}
	v.command("exec", map[string]any{"id": "c-2", "command": "get_available_models"})
	if r := v.execResult("c-2"); len(r["result"].(map[string]any)["models"].([]any)) != len(demoModels) {
		t.Fatalf("exec_result: %v", r)
	}
	v.command("exec", map[string]any{"id": "c-3", "command": "get_commands"})
	if r := v.execResult("c-3"); r["ok"] != true || len(r["result"].(map[string]any)["commands"].([]any)) != len(demoCommands) {
		t.Fatalf("exec_result: %v", r)
	}
	v.command("exec", map[string]any{"id": "c-4", "command": "x"})
	if r := v.execResult("c-4"); r["ok"] != false || r["error"] != "Unknown exec command: x" {
		t.Fatalf("exec_result: %v", r)
	}
	v.command("exec", map[string]any{"id": "c-5", "command": "set_session_name", "name": "renamed"})
	if r := v.execResult("c-5"); r["ok"] != true || r["result"].(map[string]any)["sessionName"] != "renamed" {
		t.Fatalf("exec_result: %v", r)
	}
	v.until(func(typ string, raw json.RawMessage) bool {
		return typ == "heartbeat" && field[string](t, raw, "sessionName") == "renamed"
	})

	// Ctrl-C: the session ends for the viewer, after a last snapshot, and Run returns nil.
	if err := s.end(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	v.untilType("session_active")
	var d viewer.Disconnected
	v.c.NextInto(t, "disconnected", &d)
	if d.Reason != "Session ended" {
		t.Fatalf("disconnected: %q", d.Reason)
	}
	if !strings.Contains(s.log.String(), "session ended") {
		t.Fatalf("the end was not confirmed:\n%s", s.log.String())
	}
}

// TestDemoAbort: abort stops the current run: the message ends as aborted, the run ends, the
// viewer gets exec_result and a heartbeat that says the agent is idle.
func TestDemoAbort(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{SessionID: "s-abort", Source: &Demo{Speed: 1, NoOpening: true}})
	v := watch(t, n, u, "s-abort", s.trace)
	v.untilType("session_active")
	v.command("input", map[string]any{"text": "write a long story", "attachments": []any{}})
	v.until(func(typ string, raw json.RawMessage) bool {
		return typ == "message_update" && field[string](t, raw, "assistantMessageEvent", "type") == "thinking_delta"
	})
	start := time.Now()
	v.command("exec", map[string]any{"id": "stop", "command": "abort"})
	if r := v.execResult("stop"); r["ok"] != true {
		t.Fatalf("exec_result: %v", r)
	}
	var stopReason string
	var endTypes []string
	for _, e := range v.untilType("agent_end") {
		endTypes = append(endTypes, e.Event.Type)
		if e.Event.Type == "message_end" {
			stopReason = field[string](t, e.Event.Raw, "message", "stopReason")
		}
	}
	if stopReason != "aborted" {
		t.Fatalf("stop reason %q; events %v", stopReason, endTypes)
	}
	hb := v.untilType("heartbeat")
	if field[bool](t, hb[len(hb)-1].Event.Raw, "active") {
		t.Fatalf("heartbeat after abort: %s", hb[len(hb)-1].Event.Raw)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("abort took %v", d)
	}
	// The agent takes the next message as usual.
	v.command("input", map[string]any{"text": "short one", "attachments": []any{}})
	reply := ""
	for _, e := range v.untilType("agent_end") {
		if e.Event.Type == "message_end" {
			reply += assistantText(t, e.Event.Raw)
		}
	}
	if !strings.Contains(reply, "short one") {
		t.Fatalf("reply %q", reply)
	}
}

// TestDemoSteerAndFollowUp: a steering message is taken into the running run; a follow-up waits
// for the next one.
func TestDemoSteerAndFollowUp(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{SessionID: "s-steer", Source: &Demo{Speed: 2, NoOpening: true}})
	v := watch(t, n, u, "s-steer", s.trace)
	v.command("input", map[string]any{"text": "first", "attachments": []any{}})
	v.untilType("agent_start")
	v.command("input", map[string]any{"text": "later", "attachments": []any{}, "deliverAs": "followUp"})
	v.command("input", map[string]any{"text": "change of plan", "attachments": []any{}, "deliverAs": "steer"})
	run1 := v.untilType("agent_end")
	text1 := ""
	for _, e := range run1 {
		text1 += assistantText(t, e.Event.Raw)
	}
	if !strings.Contains(text1, "change of plan") || strings.Contains(text1, "later") {
		t.Fatalf("first run: %q", text1)
	}
	// The run's messages hold each user message once.
	users := 0
	for _, m := range field[[]map[string]any](t, run1[len(run1)-1].Event.Raw, "messages") {
		if m["role"] == "user" {
			users++
		}
	}
	if users != 2 {
		t.Fatalf("agent_end has %d user messages: %s", users, run1[len(run1)-1].Event.Raw)
	}
	text2 := ""
	for _, e := range v.untilType("agent_end") {
		text2 += assistantText(t, e.Event.Raw)
	}
	if !strings.Contains(text2, "later") {
		t.Fatalf("second run: %q", text2)
	}
}

// TestEndSession: a viewer's end_session is answered, then the session ends and Run returns.
func TestEndSession(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{SessionID: "s-end", Source: &Demo{NoOpening: true}})
	v := watch(t, n, u, "s-end", s.trace)
	v.command("exec", map[string]any{"id": "bye", "command": "end_session"})
	if r := v.execResult("bye"); r["ok"] != true {
		t.Fatalf("exec_result: %v", r)
	}
	var d viewer.Disconnected
	v.c.NextInto(t, "disconnected", &d)
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
	share(t, n, a, Options{SessionID: "s-taken", Source: &Demo{NoOpening: true}})
	err := Run(context.Background(), Options{RelayURL: n.URL, APIKey: b.APIKey, SessionID: "s-taken", Source: &Demo{}, Log: &syncbuf.Buffer{}, Out: &syncbuf.Buffer{}})
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
	state := v.untilType("session_active")
	if msgs := field[[]any](t, state[len(state)-1].Event.Raw, "state", "messages"); len(msgs) != 2 {
		t.Fatalf("snapshot: %s", state[len(state)-1].Event.Raw)
	}
	for _, want := range []string{"rec.jsonl line 2: skipped: not valid JSON", "rec.jsonl line 3: skipped", "rec.jsonl line 6: skipped"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("no %q in\n%s", want, log.String())
		}
	}
	v.command("exec", map[string]any{"id": "a", "command": "abort"})
	if r := v.execResult("a"); r["ok"] != false || r["error"] != "Unknown exec command: abort" {
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
	evs := v.until(func(typ string, raw json.RawMessage) bool { return typ == "tick" && field[int](t, raw, "n") == 3 })
	var types []string
	for _, e := range evs {
		types = append(types, e.Event.Type)
	}
	if !strings.Contains(strings.Join(types, " "), "cli_error tick tick") {
		t.Fatalf("events: %v", types)
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
type recordingSource struct{ started bool }

func (r *recordingSource) Run(ctx context.Context, _ Sink) error {
	r.started = true
	<-ctx.Done()
	return nil
}
func (r *recordingSource) Input(context.Context, Input) error { return nil }
func (r *recordingSource) Exec(_ context.Context, c Command) (json.RawMessage, error) {
	return nil, ErrUnknownCommand
}
