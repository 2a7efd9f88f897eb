package demo

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share"
	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/protocol"
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
	s := publish(t, n, u, "s-demo", &Demo{Speed: 25, gate: gate}, share.Options{})
	if !strings.Contains(s.out.String(), "/session/s-demo") {
		t.Fatalf("share URL not printed: %q", s.out.String())
	}
	v := watch(t, n, u, "s-demo")
	close(gate)

	// The greeting is answered with the capabilities and a snapshot; the scripted opening
	// streams to its end.
	var types []string
	for _, e := range v.Until(func(typ string, raw json.RawMessage) bool {
		return typ == "agent_end" && len(sharetest.Field[[]any](t, raw, "messages")) > 5
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
	for _, e := range v.Seen {
		if e.Event.Type == "capabilities" {
			caps = e.Event.Raw
		}
	}
	if len(sharetest.Field[[]any](t, caps, "models")) != len(Models) || len(sharetest.Field[[]any](t, caps, "commands")) == 0 {
		t.Fatalf("capabilities: %s", caps)
	}

	// Collab input starts a run whose reply streams back and mentions the message.
	v.Command("input", map[string]any{"text": "hello from the test", "attachments": []any{}, "client": "web"})
	deltas, reply := 0, ""
	for _, e := range v.UntilType("agent_end") {
		if e.Event.Type == "message_update" && sharetest.Field[string](t, e.Event.Raw, "assistantMessageEvent", "type") == "text_delta" {
			deltas++
		}
		if e.Event.Type == "message_end" {
			reply += sharetest.AssistantText(e.Event.Raw)
		}
	}
	if !strings.Contains(reply, "hello from the test") || deltas < 10 {
		t.Fatalf("reply with %d deltas: %q", deltas, reply)
	}
	hb := v.UntilType("heartbeat")
	if sharetest.Field[bool](t, hb[len(hb)-1].Event.Raw, "active") {
		t.Fatalf("heartbeat after agent_end: %s", hb[len(hb)-1].Event.Raw)
	}

	// model_set: model_set_result, then a heartbeat with the new model.
	v.Command("model_set", map[string]any{"provider": "openai", "modelId": "gpt-5"})
	evs := v.UntilType("model_set_result")
	if len(evs) < 2 || evs[len(evs)-2].Event.Type != "heartbeat" || sharetest.Field[string](t, evs[len(evs)-2].Event.Raw, "model", "id") != "gpt-5" {
		t.Fatalf("after model_set: %v", evs)
	}
	if r := evs[len(evs)-1].Event.Raw; !sharetest.Field[bool](t, r, "ok") || sharetest.Field[string](t, r, "modelId") != "gpt-5" {
		t.Fatalf("model_set_result: %s", r)
	}
	// set_model through exec: exec_result too; an unknown model fails.
	v.Command("exec", map[string]any{"id": "c-1", "command": "set_model", "provider": "nope", "modelId": "x"})
	if r := v.ExecResult("c-1"); r["ok"] != false || r["code"] != "not_found" || r["error"] != "Model not found: nope/x" {
		t.Fatalf("exec_result: %v", r)
	}
	if r := v.UntilType("model_set_result"); sharetest.Field[bool](t, r[len(r)-1].Event.Raw, "ok") {
		t.Fatalf("model_set_result: %s", r[len(r)-1].Event.Raw)
	}
	v.Command("exec", map[string]any{"id": "c-2", "command": "get_available_models"})
	if r := v.ExecResult("c-2"); len(r["result"].(map[string]any)["models"].([]any)) != len(Models) {
		t.Fatalf("exec_result: %v", r)
	}
	v.Command("exec", map[string]any{"id": "c-3", "command": "get_commands"})
	if r := v.ExecResult("c-3"); r["ok"] != true || len(r["result"].(map[string]any)["commands"].([]any)) != len(Commands) {
		t.Fatalf("exec_result: %v", r)
	}
	v.Command("exec", map[string]any{"id": "c-4", "command": "x"})
	if r := v.ExecResult("c-4"); r["ok"] != false || r["code"] != "unsupported" || r["error"] != "Unknown exec command: x" {
		t.Fatalf("exec_result: %v", r)
	}
	v.Command("exec", map[string]any{"id": "c-5", "command": "set_session_name", "name": "renamed"})
	if r := v.ExecResult("c-5"); r["ok"] != true || r["result"].(map[string]any)["sessionName"] != "renamed" {
		t.Fatalf("exec_result: %v", r)
	}
	v.Until(func(typ string, raw json.RawMessage) bool {
		return typ == "heartbeat" && sharetest.Field[string](t, raw, "sessionName") == "renamed"
	})

	// Ctrl-C: the session ends for the viewer, after a last snapshot, and Run returns nil.
	if err := s.end(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	v.UntilType("session_active")
	var d viewer.Disconnected
	v.C.NextInto(t, "disconnected", &d)
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
	publish(t, n, u, "s-abort", &Demo{Speed: 1, NoOpening: true}, share.Options{})
	v := watch(t, n, u, "s-abort")
	v.UntilType("session_active")
	v.Command("input", map[string]any{"text": "write a long story", "attachments": []any{}})
	v.Until(func(typ string, raw json.RawMessage) bool {
		return typ == "message_update" && sharetest.Field[string](t, raw, "assistantMessageEvent", "type") == "thinking_delta"
	})
	start := time.Now()
	v.Command("exec", map[string]any{"id": "stop", "command": "abort"})
	if r := v.ExecResult("stop"); r["ok"] != true {
		t.Fatalf("exec_result: %v", r)
	}
	var stopReason string
	var endTypes []string
	for _, e := range v.UntilType("agent_end") {
		endTypes = append(endTypes, e.Event.Type)
		if e.Event.Type == "message_end" {
			stopReason = sharetest.Field[string](t, e.Event.Raw, "message", "stopReason")
		}
	}
	if stopReason != "aborted" {
		t.Fatalf("stop reason %q; events %v", stopReason, endTypes)
	}
	hb := v.UntilType("heartbeat")
	if sharetest.Field[bool](t, hb[len(hb)-1].Event.Raw, "active") {
		t.Fatalf("heartbeat after abort: %s", hb[len(hb)-1].Event.Raw)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("abort took %v", d)
	}
	// The agent takes the next message as usual.
	v.Command("input", map[string]any{"text": "short one", "attachments": []any{}})
	reply := ""
	for _, e := range v.UntilType("agent_end") {
		if e.Event.Type == "message_end" {
			reply += sharetest.AssistantText(e.Event.Raw)
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
	publish(t, n, u, "s-steer", &Demo{Speed: 2, NoOpening: true}, share.Options{})
	v := watch(t, n, u, "s-steer")
	v.Command("input", map[string]any{"text": "first", "attachments": []any{}})
	v.UntilType("agent_start")
	v.Command("input", map[string]any{"text": "later", "attachments": []any{}, "deliverAs": "followUp"})
	v.Command("input", map[string]any{"text": "change of plan", "attachments": []any{}, "deliverAs": "steer"})
	run1 := v.UntilType("agent_end")
	text1 := ""
	for _, e := range run1 {
		text1 += sharetest.AssistantText(e.Event.Raw)
	}
	if !strings.Contains(text1, "change of plan") || strings.Contains(text1, "later") {
		t.Fatalf("first run: %q", text1)
	}
	// The run's messages hold each user message once.
	users := 0
	for _, m := range sharetest.Field[[]map[string]any](t, run1[len(run1)-1].Event.Raw, "messages") {
		if m["role"] == "user" {
			users++
		}
	}
	if users != 2 {
		t.Fatalf("agent_end has %d user messages: %s", users, run1[len(run1)-1].Event.Raw)
	}
	text2 := ""
	for _, e := range v.UntilType("agent_end") {
		text2 += sharetest.AssistantText(e.Event.Raw)
	}
	if !strings.Contains(text2, "later") {
		t.Fatalf("second run: %q", text2)
	}
}

// TestInitialPromptDemo: the demo agent answers the first message; a model it does not have is
// reported to viewers as a cli_error, and the message is still delivered.
func TestInitialPromptDemo(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	gate := make(chan struct{})
	s := publish(t, n, u, "s-initial-demo", &Demo{Speed: 0, NoOpening: true, gate: gate}, share.Options{
		InitialModel:  &protocol.AgentModel{Provider: "nope", ID: "missing"},
		InitialPrompt: "hello from the runner",
	})
	v := watch(t, n, u, "s-initial-demo")
	close(gate)
	if evs := v.UntilType("agent_end"); !strings.Contains(string(evs[len(evs)-1].Event.Raw), "hello from the runner") {
		t.Fatalf("agent_end: %s", evs[len(evs)-1].Event.Raw)
	}
	deadline := time.Now().Add(servertest.Timeout)
	for !strings.Contains(s.log.String(), "initial model nope/missing") {
		if time.Now().After(deadline) {
			t.Fatalf("log: %s", s.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
