package share

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/runner"
	"github.com/pizzapi/pizzapi/clients/share/internal/fakemodel"
	"github.com/pizzapi/pizzapi/clients/share/internal/pitest"
	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// The tests in this file run PizzaPi's agent tools (package agentext) in the real pi.

// writeExtension writes a test extension for pi and returns its path.
func writeExtension(t *testing.T, source string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test-extension.ts")
	if err := os.WriteFile(path, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPiToolsOffered: the model is offered PizzaPi's tools beside pi's own.
func TestPiToolsOffered(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-offer")
	s.model.Script(fakemodel.Reply{Text: "Hello."})
	v := watch(t, n, u, "s-pi-offer", s.trace)
	s.waitReady(t)
	v.Command("input", map[string]any{"text": "hi", "attachments": []any{}})
	v.UntilType("agent_end")
	tools := strings.Join(s.model.Requests()[0].ToolNames(), " ")
	for _, want := range []string{"bash", "AskUserQuestion", "send_message", "wait_for_message", "check_messages", "spawn_session", "get_session_id", "update_todo", "set_session_name"} {
		if !strings.Contains(" "+tools+" ", " "+want+" ") {
			t.Errorf("the model was not offered %s: %s", want, tools)
		}
	}
}

// TestPiAskUserQuestion: the agent asks; viewers see the question (heartbeats' pendingQuestion);
// a viewer's message answers it through pi's extension UI protocol, and the answer reaches the
// model.
func TestPiAskUserQuestion(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-ask")
	s.model.Script(
		fakemodel.Reply{ToolCalls: []fakemodel.ToolCall{{Name: "AskUserQuestion", Args: map[string]any{"question": "Which database?", "options": []string{"SQLite", "PostgreSQL"}}}}},
		fakemodel.Reply{Text: "PostgreSQL it is."},
	)
	v := watch(t, n, u, "s-pi-ask", s.trace)
	s.waitReady(t)
	v.Command("input", map[string]any{"text": "set up the database", "attachments": []any{}})
	v.Until(func(typ string, raw json.RawMessage) bool {
		return typ == "extension_ui_request" && sharetest.Field[string](t, raw, "title") == "Which database?"
	})
	if hb := s.trace.lastOfType("heartbeat"); sharetest.Field[string](t, hb, "pendingQuestion", "question") != "Which database?" {
		t.Fatalf("the heartbeat does not show the question: %s", hb)
	}
	v.Command("input", map[string]any{"text": "PostgreSQL", "attachments": []any{}})
	v.UntilType("agent_end")
	reqs := s.model.WaitRequests(t, 2, piTimeout)
	if got := reqs[1].LastMessage(); got != "User answered: PostgreSQL" {
		t.Fatalf("the model got %q", got)
	}
	if hb := s.trace.lastOfType("heartbeat"); string(sharetest.Field[json.RawMessage](t, hb, "pendingQuestion")) != "null" {
		t.Fatalf("the question is still pending: %s", hb)
	}
}

// TestPiTodoAndName: update_todo fills the viewers' todo panel and set_session_name names the
// session; both reach heartbeats and the stored snapshot.
func TestPiTodoAndName(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-todo")
	todos := []map[string]any{{"id": 1, "text": "Read the failing test", "status": "done"}, {"id": 2, "text": "Fix the parser", "status": "in_progress"}}
	s.model.Script(
		fakemodel.Reply{ToolCalls: []fakemodel.ToolCall{{Name: "set_session_name", Args: map[string]any{"name": "Fix the parser"}}, {Name: "update_todo", Args: map[string]any{"todos": todos}}}},
		fakemodel.Reply{Text: "Working on it."},
	)
	v := watch(t, n, u, "s-pi-todo", s.trace)
	s.waitReady(t)
	v.Command("input", map[string]any{"text": "fix the parser", "attachments": []any{}})
	evs := v.UntilType("agent_end")
	var update json.RawMessage
	for _, e := range evs {
		if e.Event.Type == "todo_update" {
			update = e.Event.Raw
		}
	}
	if got := sharetest.Field[[]map[string]any](t, update, "todos"); len(got) != 2 || got[1]["text"] != "Fix the parser" || got[1]["status"] != "in_progress" {
		t.Fatalf("todo_update: %s", update)
	}
	v.UntilType("session_active")
	snap := lateSnapshot(t, n, u, "s-pi-todo")
	if sharetest.Field[string](t, snap, "state", "sessionName") != "Fix the parser" || len(sharetest.Field[[]any](t, snap, "state", "todoList")) != 2 {
		t.Fatalf("the stored snapshot: %s", snap)
	}
	if hb := s.trace.lastOfType("heartbeat"); sharetest.Field[string](t, hb, "sessionName") != "Fix the parser" || len(sharetest.Field[[]any](t, hb, "todoList")) != 2 {
		t.Fatalf("heartbeat: %s", hb)
	}
}

// TestPiSessionMessages: one agent waits for a message, another sends it to its session id
// through the relay; the answer reaches the waiting agent's model.
func TestPiSessionMessages(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	b := sharePi(t, n, u, "s-pi-b")
	b.model.Script(
		fakemodel.Reply{ToolCalls: []fakemodel.ToolCall{{Name: "wait_for_message", Args: map[string]any{"timeout": 120}}}},
		fakemodel.Reply{Text: "Got it."},
	)
	a := sharePi(t, n, u, "s-pi-a")
	a.model.Script(
		fakemodel.Reply{ToolCalls: []fakemodel.ToolCall{{Name: "get_session_id", Args: map[string]any{}}, {Name: "send_message", Args: map[string]any{"sessionId": "s-pi-b", "message": "hello from A"}}}},
		fakemodel.Reply{Text: "Sent."},
	)
	vb := watch(t, n, u, "s-pi-b", b.trace)
	va := watch(t, n, u, "s-pi-a", a.trace)
	b.waitReady(t)
	a.waitReady(t)
	vb.Command("input", map[string]any{"text": "wait for A", "attachments": []any{}})
	vb.Until(func(typ string, raw json.RawMessage) bool {
		return typ == "tool_execution_start" && sharetest.Field[string](t, raw, "toolName") == "wait_for_message"
	})
	va.Command("input", map[string]any{"text": "tell B", "attachments": []any{}})
	results := map[string]string{}
	for _, e := range va.UntilType("agent_end") {
		if e.Event.Type == "tool_execution_end" {
			results[sharetest.Field[string](t, e.Event.Raw, "toolName")] = string(e.Event.Raw)
		}
	}
	if !strings.Contains(results["get_session_id"], "Session ID: s-pi-a") || !strings.Contains(results["send_message"], "Message sent to session s-pi-b.") {
		t.Fatalf("A's tool results: %v", results)
	}
	vb.UntilType("agent_end")
	reqs := b.model.WaitRequests(t, 2, piTimeout)
	if got := reqs[1].LastMessage(); !strings.Contains(got, "Message from session s-pi-a") || !strings.Contains(got, "hello from A") {
		t.Fatalf("B's model got %q", got)
	}
}

// TestPiExtensionDialogs: another extension's dialogs reach viewers, a viewer answers one with
// extension_ui_response, and one nobody answers is cancelled after the timeout. A model switch
// made inside pi (which pi reports to extensions only) reaches heartbeats.
func TestPiExtensionDialogs(t *testing.T) {
	ext := writeExtension(t, `export default function (pi) {
	pi.registerCommand("ask", { description: "Ask for confirmation", handler: async (_args, ctx) => {
		const ok = await ctx.ui.confirm("Proceed?", "This renames the session.");
		pi.setSessionName(ok ? "confirmed" : "refused");
	} });
	pi.registerCommand("plain", { description: "Switch to the plain model", handler: async (_args, ctx) => {
		await pi.setModel(ctx.modelRegistry.find("fake", "fake-plain"));
	} });
}
`)
	n := servertest.Start(t)
	u := n.NewUser(t)
	model := fakemodel.Start(t)
	s := sharePiWith(t, n, u, "s-pi-dialog", model, pitest.Config(t, model.URL), &RPC{DialogTimeout: 3 * time.Second}, "-e", ext)
	v := watch(t, n, u, "s-pi-dialog", s.trace)
	s.waitReady(t)

	v.Command("input", map[string]any{"text": "/ask", "attachments": []any{}})
	evs := v.Until(func(typ string, raw json.RawMessage) bool { return typ == "extension_ui_request" })
	req := evs[len(evs)-1].Event.Raw
	if sharetest.Field[string](t, req, "method") != "confirm" || sharetest.Field[string](t, req, "title") != "Proceed?" {
		t.Fatalf("dialog: %s", req)
	}
	if r := execPi(t, v, "d-1", map[string]any{"command": "extension_ui_response", "requestId": sharetest.Field[string](t, req, "id"), "confirmed": true}); r["ok"] != true {
		t.Fatalf("extension_ui_response: %v", r)
	}
	s.trace.waitFor(t, "the name the answer set", func(raw json.RawMessage) bool {
		return isType("heartbeat")(raw) && strings.Contains(string(raw), `"sessionName":"confirmed"`)
	})

	// Nobody answers the second: it is cancelled after the timeout, and viewers are told.
	v.Command("input", map[string]any{"text": "/ask", "attachments": []any{}})
	s.trace.waitFor(t, "the cancellation", func(raw json.RawMessage) bool {
		return isType("extension_ui_response")(raw) && strings.Contains(string(raw), `"reason":"timeout"`)
	})
	s.trace.waitFor(t, "the name the cancellation set", func(raw json.RawMessage) bool {
		return isType("heartbeat")(raw) && strings.Contains(string(raw), `"sessionName":"refused"`)
	})
	if r := execPi(t, v, "d-2", map[string]any{"command": "extension_ui_response", "requestId": "nope", "value": "x"}); r["ok"] != false {
		t.Fatalf("an answer to no dialog: %v", r)
	}

	v.Command("input", map[string]any{"text": "/plain", "attachments": []any{}})
	s.trace.waitFor(t, "a heartbeat with the model pi switched to", func(raw json.RawMessage) bool {
		return isType("heartbeat")(raw) && strings.Contains(string(raw), `"id":"`+pitest.PlainModel+`"`) && strings.Contains(string(raw), `"thinkingLevel":"off"`)
	})
}

// TestPiSpawnSession: spawn_session starts a session on the user's runner with the prompt and
// model the agent chose (the runner's worker gets them, and the runner's id, in its
// environment).
func TestPiSpawnSession(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "work")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	envs := filepath.Join(dir, "envs")
	if err := os.MkdirAll(envs, 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := runner.New(runner.Config{
		RelayURL: n.URL, APIKey: u.APIKey,
		StatePath: filepath.Join(dir, "state", "runner.json"), Name: "spawn-box", Roots: []string{root},
		SkillsDir: filepath.Join(dir, "skills"), LogDir: filepath.Join(dir, "logs"), Shell: "/bin/sh",
		WorkerCommand: func(string) []string {
			return []string{"/bin/sh", "-c", `env > "$0/$PIZZAPI_SESSION_ID.env"; sleep 600`, envs}
		},
		KillGrace: time.Second, RestartDelay: 100 * time.Millisecond, ReconnectDelay: 100 * time.Millisecond, ConnectTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(servertest.Timeout)
	for len(listRunners(t, n, u)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the runner did not register")
		}
		time.Sleep(50 * time.Millisecond)
	}

	s := sharePi(t, n, u, "s-pi-spawn")
	s.model.Script(
		fakemodel.Reply{ToolCalls: []fakemodel.ToolCall{{Name: "spawn_session", Args: map[string]any{
			"prompt": "write the release notes", "model": map[string]any{"provider": "fake", "id": "fake-plain"}, "cwd": root, "runnerId": d.ID(),
		}}}},
		fakemodel.Reply{Text: "Spawned."},
	)
	v := watch(t, n, u, "s-pi-spawn", s.trace)
	s.waitReady(t)
	v.Command("input", map[string]any{"text": "delegate the notes", "attachments": []any{}})
	var result json.RawMessage
	for _, e := range v.UntilType("agent_end") {
		if e.Event.Type == "tool_execution_end" {
			result = e.Event.Raw
		}
	}
	spawned := sharetest.Field[string](t, result, "result", "details", "sessionId")
	if spawned == "" || !strings.Contains(string(result), "/session/"+spawned) {
		t.Fatalf("spawn_session: %s", result)
	}
	var env []byte
	for deadline := time.Now().Add(servertest.Timeout); ; time.Sleep(50 * time.Millisecond) {
		if env, err = os.ReadFile(filepath.Join(envs, spawned+".env")); err == nil && strings.Contains(string(env), "PIZZAPI_RUNNER_ID=") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the runner did not start the worker of %s", spawned)
		}
	}
	for _, want := range []string{"PIZZAPI_WORKER_INITIAL_PROMPT=write the release notes", "PIZZAPI_WORKER_INITIAL_MODEL_PROVIDER=fake", "PIZZAPI_WORKER_INITIAL_MODEL_ID=fake-plain", "PIZZAPI_WORKER_CWD=" + root, "PIZZAPI_RUNNER_ID=" + d.ID()} {
		if !strings.Contains(string(env), want+"\n") {
			t.Errorf("the worker's environment lacks %s", want)
		}
	}
}

// listRunners lists the user's runners through the REST API.
func listRunners(t *testing.T, n *servertest.Node, u servertest.User) []json.RawMessage {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/api/runners", nil)
	req.Header.Set("x-api-key", u.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Runners []json.RawMessage `json:"runners"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out.Runners
}

// TestPiResumeAndRestart: list_resume_sessions lists pi's other saved sessions,
// resume_session switches to one (viewers get its transcript), and restart starts pi again on
// the same conversation while the relay session goes on.
func TestPiResumeAndRestart(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := sharePi(t, n, u, "s-pi-resume")
	s.model.Script(fakemodel.Reply{Text: "First answer."}, fakemodel.Reply{Text: "Second answer."}, fakemodel.Reply{Text: "Third answer."})
	v := watch(t, n, u, "s-pi-resume", s.trace)
	s.waitReady(t)
	v.Command("input", map[string]any{"text": "first topic", "attachments": []any{}})
	v.UntilType("agent_end")
	if r := execPi(t, v, "r-1", map[string]any{"command": "new_session"}); r["ok"] != true {
		t.Fatalf("new_session: %v", r)
	}
	v.Command("input", map[string]any{"text": "second topic", "attachments": []any{}})
	v.UntilType("agent_end")

	r := execPi(t, v, "r-2", map[string]any{"command": "list_resume_sessions"})
	sessions := sharetest.Field[[]map[string]any](t, mustJSON(t, r), "result", "sessions")
	if r["ok"] != true || len(sessions) != 1 || sessions[0]["firstMessage"] != "first topic" || sharetest.Field[string](t, mustJSON(t, r), "result", "currentPath") == "" {
		t.Fatalf("list_resume_sessions: %v", r)
	}
	r = execPi(t, v, "r-3", map[string]any{"command": "resume_session", "query": "FIRST"})
	if r["ok"] != true || sharetest.Field[string](t, mustJSON(t, r), "result", "session", "path") != sessions[0]["path"] {
		t.Fatalf("resume_session: %v", r)
	}
	snap := v.Until(func(typ string, raw json.RawMessage) bool {
		return typ == "session_active" && strings.Contains(string(raw), "First answer.")
	})
	if state := string(snap[len(snap)-1].Event.Raw); strings.Contains(state, "Second answer.") {
		t.Fatalf("the snapshot after resuming: %s", state)
	}
	if r := execPi(t, v, "r-4", map[string]any{"command": "resume_session", "query": "no such topic"}); r["ok"] != false || r["error"] != "No other sessions found to resume" {
		t.Fatalf("resume_session of nothing: %v", r)
	}

	// Restart: pi starts again on the resumed conversation; the session and its viewer go on.
	before := s.trace.lastSeq()
	if r := execPi(t, v, "r-5", map[string]any{"command": "restart"}); r["ok"] != true {
		t.Fatalf("restart: %v", r)
	}
	s.trace.waitAfter(t, before, "a snapshot from the restarted agent", func(raw json.RawMessage) bool {
		return isType("session_active")(raw) && strings.Contains(string(raw), "First answer.")
	})
	v.Command("input", map[string]any{"text": "third topic", "attachments": []any{}})
	text := ""
	for _, e := range v.UntilType("agent_end") {
		text += sharetest.AssistantText(e.Event.Raw)
	}
	reqs := s.model.Requests()
	var history string
	for _, m := range reqs[len(reqs)-1].Messages {
		history += string(m)
	}
	if text != "Third answer." || !strings.Contains(history, "first topic") || strings.Contains(history, "second topic") {
		t.Fatalf("after the restart the agent said %q; the model got %s", text, history)
	}
}

// echoMCPServer is a stdio MCP server with one tool, echo.
const echoMCPServer = `const rl = require("node:readline").createInterface({ input: process.stdin });
const send = (m) => process.stdout.write(JSON.stringify(m) + "\n");
rl.on("line", (line) => {
	const m = JSON.parse(line);
	if (m.id === undefined) return;
	if (m.method === "initialize") send({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: "2024-11-05", capabilities: { tools: {} }, serverInfo: { name: "echo", version: "1" } } });
	else if (m.method === "tools/list") send({ jsonrpc: "2.0", id: m.id, result: { tools: [{ name: "echo", description: "Echo text", inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } }] } });
	else if (m.method === "tools/call") send({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: "echo: " + m.params.arguments.text }] } });
	else send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "no such method" } });
});
`

// TestPiMcp: the MCP servers of the project's .pizzapi/config.json give the agent their tools;
// the mcp command reports them and reloads them.
func TestPiMcp(t *testing.T) {
	cwd := t.TempDir()
	server := filepath.Join(t.TempDir(), "echo-mcp.js")
	if err := os.WriteFile(server, []byte(echoMCPServer), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cwd, ".pizzapi"), 0o755); err != nil {
		t.Fatal(err)
	}
	config, _ := json.Marshal(map[string]any{"mcpServers": map[string]any{"echo": map[string]any{"command": "node", "args": []string{server}}}})
	if err := os.WriteFile(filepath.Join(cwd, ".pizzapi", "config.json"), config, 0o644); err != nil {
		t.Fatal(err)
	}
	n := servertest.Start(t)
	u := n.NewUser(t)
	model := fakemodel.Start(t)
	s := sharePiWith(t, n, u, "s-pi-mcp", model, pitest.Config(t, model.URL), &RPC{Dir: cwd})
	s.model.Script(
		fakemodel.Reply{ToolCalls: []fakemodel.ToolCall{{Name: "mcp_echo_echo", Args: map[string]any{"text": "ping"}}}},
		fakemodel.Reply{Text: "It echoed."},
	)
	v := watch(t, n, u, "s-pi-mcp", s.trace)
	s.waitReady(t)
	r := execPi(t, v, "p-1", map[string]any{"command": "mcp"})
	if r["ok"] != true || sharetest.Field[int](t, mustJSON(t, r), "result", "toolCount") != 1 || sharetest.Field[[]string](t, mustJSON(t, r), "result", "toolNames")[0] != "mcp_echo_echo" {
		t.Fatalf("mcp status: %v", r)
	}
	loaded := sharetest.Field[string](t, mustJSON(t, r), "result", "loadedAt")
	v.Command("input", map[string]any{"text": "echo ping", "attachments": []any{}})
	v.UntilType("agent_end")
	if got := s.model.WaitRequests(t, 2, piTimeout)[1].LastMessage(); got != "echo: ping" {
		t.Fatalf("the model got %q", got)
	}
	r = execPi(t, v, "p-2", map[string]any{"command": "mcp", "action": "reload"})
	if r["ok"] != true || sharetest.Field[int](t, mustJSON(t, r), "result", "toolCount") != 1 || sharetest.Field[string](t, mustJSON(t, r), "result", "loadedAt") <= loaded {
		t.Fatalf("mcp reload (after loading at %s): %v", loaded, r)
	}
}
