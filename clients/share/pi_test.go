package share

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share/internal/fakemodel"
	"github.com/pizzapi/pizzapi/clients/share/internal/pitest"
	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// The tests in this file run the real pi agent (pitest installs it) against a scripted fake model
// server, through share and a real relay.

// piTimeout bounds the waits for pi: it starts in a second or two, more on a loaded machine.
const piTimeout = 60 * time.Second

// piSession is a real pi agent shared on a test relay.
type piSession struct {
	*shared
	model *fakemodel.Server
	agent pitest.Agent
}

// sharePi starts pi (with extra arguments) behind share against a fresh fake model server.
func sharePi(t *testing.T, n *servertest.Node, u servertest.User, sessionID string, extra ...string) *piSession {
	t.Helper()
	model := fakemodel.Start(t)
	agent := pitest.Config(t, model.URL)
	return sharePiWith(t, n, u, sessionID, model, agent, &RPC{DialogTimeout: piTimeout}, extra...)
}

// sharePiWith is sharePi with a given model server, configuration and source settings.
func sharePiWith(t *testing.T, n *servertest.Node, u servertest.User, sessionID string, model *fakemodel.Server, agent pitest.Agent, src *RPC, extra ...string) *piSession {
	t.Helper()
	src.Argv = append(append([]string(nil), agent.Argv...), extra...)
	src.Env, src.StopTimeout, src.Extension = agent.Env, 5*time.Second, true
	if src.Dir == "" {
		src.Dir = t.TempDir()
	}
	s := share(t, n, u, Options{SessionID: sessionID, Source: src})
	return &piSession{shared: s, model: model, agent: agent}
}

// waitFor waits until the publisher has numbered an event for which ok is true and returns it.
func (tr *trace) waitFor(t *testing.T, what string, ok func(raw json.RawMessage) bool) json.RawMessage {
	t.Helper()
	return tr.waitAfter(t, 0, what, ok)
}

// waitAfter is waitFor for the events numbered after seq from.
func (tr *trace) waitAfter(t *testing.T, from int64, what string, ok func(raw json.RawMessage) bool) json.RawMessage {
	t.Helper()
	deadline := time.Now().Add(piTimeout)
	for {
		tr.mu.Lock()
		for seq := from + 1; seq <= tr.last; seq++ {
			if raw, found := tr.events[seq]; found && ok(raw) {
				tr.mu.Unlock()
				return raw
			}
		}
		tr.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no event %s was published", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lastOfType returns the newest published event of type typ (nil for none).
func (tr *trace) lastOfType(typ string) json.RawMessage {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for seq := tr.last; seq > 0; seq-- {
		var ev struct {
			Type string `json:"type"`
		}
		if raw, ok := tr.events[seq]; ok && json.Unmarshal(raw, &ev) == nil && ev.Type == typ {
			return raw
		}
	}
	return nil
}

// isType matches events of type typ.
func isType(typ string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var ev struct {
			Type string `json:"type"`
		}
		return json.Unmarshal(raw, &ev) == nil && ev.Type == typ
	}
}

// waitReady waits until share has read pi's state (a snapshot with its models).
func (s *piSession) waitReady(t *testing.T) {
	t.Helper()
	s.trace.waitFor(t, "a snapshot with pi's models", func(raw json.RawMessage) bool {
		return isType("session_active")(raw) && strings.Contains(string(raw), pitest.ThinkingModel)
	})
}

// execPi runs a remote command through the viewer and returns the exec_result.
func execPi(t *testing.T, v *sharetest.Viewer, id string, payload map[string]any) map[string]any {
	t.Helper()
	payload["id"] = id
	v.Command("exec", payload)
	return v.ExecResult(id)
}

// lateSnapshot connects a viewer that does not greet (as `pizzapi watch` does) and returns the
// session_active snapshot the relay gives it on connecting.
func lateSnapshot(t *testing.T, n *servertest.Node, u servertest.User, sessionID string) json.RawMessage {
	t.Helper()
	c := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": sessionID}})
	c.Next(t, "connected")
	for {
		var e viewer.ViewerEvent
		c.NextInto(t, "event", &e)
		if e.Event.Type == "session_active" {
			c.Close()
			return e.Event.Raw
		}
	}
}

// TestPiSession: a whole session with the real pi: a viewer's message, a tool call the model makes
// (pi runs it), the answer, every event relayed in order, the transcript in the final snapshot.
func TestPiSession(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi")
	s.model.Script(
		fakemodel.Reply{Text: "Let me look.", ToolCalls: []fakemodel.ToolCall{{Name: "bash", Args: map[string]any{"command": "echo tool-output-42"}}}},
		fakemodel.Reply{Text: "The command printed tool-output-42."},
	)
	v := watch(t, n, u, "s-pi", s.trace)
	s.waitReady(t)
	v.Command("input", map[string]any{"text": "run the command", "attachments": []any{}, "client": "web"})
	var toolEnd json.RawMessage
	text := ""
	for _, e := range v.UntilType("agent_end") {
		if e.Event.Type == "tool_execution_end" {
			toolEnd = e.Event.Raw
		}
		text += sharetest.AssistantText(e.Event.Raw)
	}
	if !strings.Contains(string(toolEnd), "tool-output-42") || sharetest.Field[bool](t, toolEnd, "isError") {
		t.Fatalf("tool_execution_end: %s", toolEnd)
	}
	if text != "Let me look.The command printed tool-output-42." {
		t.Fatalf("the assistant said %q", text)
	}
	reqs := s.model.Requests()
	if len(reqs) != 2 || !strings.Contains(reqs[1].LastMessage(), "tool-output-42") {
		t.Fatalf("the model got %d requests; the last one ends with %q", len(reqs), reqs[len(reqs)-1].LastMessage())
	}
	snap := v.UntilType("session_active")
	state := snap[len(snap)-1].Event.Raw
	if got := len(sharetest.Field[[]any](t, state, "state", "messages")); got != 4 {
		t.Fatalf("the snapshot after the run has %d messages, want 4 (user, tool call, tool result, answer): %s", got, state)
	}
}

// TestPiThinkingLevelClamped: pi clamps a requested thinking level to what the model supports;
// the viewer is told the level pi applied (issue 14, divergence 1).
func TestPiThinkingLevelClamped(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-level")
	v := watch(t, n, u, "s-pi-level", s.trace)
	s.waitReady(t)
	r := execPi(t, v, "l-1", map[string]any{"command": "set_thinking_level", "level": "xhigh"})
	if r["ok"] != true || sharetest.Field[string](t, mustJSON(t, r), "result", "thinkingLevel") != "high" {
		t.Fatalf("set_thinking_level xhigh: %v", r)
	}
	if hb := s.trace.lastOfType("heartbeat"); sharetest.Field[string](t, hb, "thinkingLevel") != "high" {
		t.Fatalf("heartbeat: %s", hb)
	}
}

// TestPiModelSwitchReclamps: switching to a model that does not think turns thinking off in pi;
// heartbeats say so (issue 14, divergence 2).
func TestPiModelSwitchReclamps(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-switch")
	v := watch(t, n, u, "s-pi-switch", s.trace)
	s.waitReady(t)
	if r := execPi(t, v, "m-1", map[string]any{"command": "set_thinking_level", "level": "medium"}); r["ok"] != true {
		t.Fatalf("set_thinking_level: %v", r)
	}
	if r := execPi(t, v, "m-2", map[string]any{"command": "set_model", "provider": pitest.Provider, "modelId": pitest.PlainModel}); r["ok"] != true {
		t.Fatalf("set_model: %v", r)
	}
	hb := s.trace.lastOfType("heartbeat")
	if sharetest.Field[string](t, hb, "model", "id") != pitest.PlainModel || sharetest.Field[string](t, hb, "thinkingLevel") != "off" {
		t.Fatalf("heartbeat after the switch: %s", hb)
	}
}

// TestPiNameFromExtension: a name an extension gives the session (pi reports it with
// session_info_changed) reaches heartbeats and the stored snapshot (issue 14, divergence 3).
func TestPiNameFromExtension(t *testing.T) {
	ext := filepath.Join(t.TempDir(), "rename.ts")
	if err := os.WriteFile(ext, []byte(`export default function (pi) {
	pi.registerCommand("rename", { description: "Rename the session", handler: async (args) => { pi.setSessionName(args.trim()); } });
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-name", "-e", ext)
	v := watch(t, n, u, "s-pi-name", s.trace)
	s.waitReady(t)
	v.Command("input", map[string]any{"text": "/rename renamed by extension", "attachments": []any{}})
	s.trace.waitFor(t, "session_info_changed", isType("session_info_changed"))
	s.trace.waitFor(t, "a heartbeat with the new name", func(raw json.RawMessage) bool {
		return isType("heartbeat")(raw) && strings.Contains(string(raw), `"sessionName":"renamed by extension"`)
	})
	if snap := lateSnapshot(t, n, u, "s-pi-name"); sharetest.Field[string](t, snap, "state", "sessionName") != "renamed by extension" {
		t.Fatalf("the stored snapshot: %s", snap)
	}
}

// TestPiCapabilitiesLate: a viewer that greets before pi has told its models and commands gets
// the capabilities again once they are known (issue 14, divergence 4).
func TestPiCapabilitiesLate(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-caps")
	v := watch(t, n, u, "s-pi-caps", s.trace) // greets at once: pi takes a second or more to answer
	for {
		e := v.UntilType("capabilities")
		if models := sharetest.Field[[]any](t, e[len(e)-1].Event.Raw, "models"); len(models) == 2 {
			return
		}
	}
}

// TestPiLateWatcher: a watcher that connects after a run and never greets (as `pizzapi watch`)
// gets the whole transcript in the stored snapshot (issue 14, divergence 5).
func TestPiLateWatcher(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-late")
	s.model.Script(fakemodel.Reply{Text: "First answer."}, fakemodel.Reply{Text: "Second answer."})
	v := watch(t, n, u, "s-pi-late", s.trace)
	s.waitReady(t)
	v.Command("input", map[string]any{"text": "first", "attachments": []any{}})
	v.UntilType("agent_end")
	v.Command("input", map[string]any{"text": "second", "attachments": []any{}})
	v.UntilType("agent_end")
	v.UntilType("session_active")
	snap := lateSnapshot(t, n, u, "s-pi-late")
	if got := len(sharetest.Field[[]any](t, snap, "state", "messages")); got != 4 || !strings.Contains(string(snap), "Second answer.") {
		t.Fatalf("the late watcher's snapshot has %d messages: %s", got, snap)
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
