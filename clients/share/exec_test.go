package share

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestRPCEveryCommand runs every command of the contract from a viewer through the relay and
// share to an agent in pi's RPC mode (the fake agent) and back as exec_result, decoding each
// result with its generated type, and checks the RPC commands the agent received. The commands
// that need PizzaPi's extension in the agent (mcp, list_resume_sessions, resume_session) say so
// when it is not loaded (pi_tools_test.go runs them with it); restart restarts the agent.
func TestRPCEveryCommand(t *testing.T) {
	bin := fakeAgent(t)
	log := filepath.Join(t.TempDir(), "stdin.log")
	n := servertest.Start(t)
	u := n.NewUser(t)
	s := share(t, n, u, Options{SessionID: "s-rpc-commands", Source: &RPC{Argv: []string{bin, "--log", log}}})
	s.trace.wait(t, `"fake-model-1"`)
	v := watch(t, n, u, "s-rpc-commands", s.trace)
	rec := &sharetest.Recorder{X: &servertest.Executor{C: v.C}}
	c := commands.Caller{X: rec}
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	needsExtension := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, protocol.ErrUnsupported) || !strings.Contains(err.Error(), "needs PizzaPi's extension") {
			t.Errorf("%s: %v", what, err)
		}
	}

	cmds, err := c.GetCommands(ctx, &commands.GetCommandsParams{})
	check("get_commands", err)
	if want := `{"commands":[{"name":"fake-cmd","description":"does nothing"}]}`; string(cmds.AppendJSON(nil)) != want {
		t.Errorf("get_commands: %s", cmds.AppendJSON(nil))
	}
	_, err = c.Mcp(ctx, &commands.McpParams{})
	needsExtension("mcp", err)
	check("abort", c.Abort(ctx, &commands.AbortParams{}))
	check("set_model", c.SetModel(ctx, &commands.SetModelParams{Provider: "fake", ModelID: "fake-model-2"}))
	next, err := c.CycleModel(ctx, &commands.CycleModelParams{})
	check("cycle_model", err)
	if next == nil || next.ID != "fake-model-1" || next.Name.Or("") != "Fake One" || next.Extra != nil {
		t.Errorf("cycle_model: %+v", next)
	}
	models, err := c.GetAvailableModels(ctx, &commands.GetAvailableModelsParams{})
	check("get_available_models", err)
	if len(models.Models) != 2 || models.Models[1].ContextWindow.Or(0) != 2000 {
		t.Errorf("get_available_models: %s", models.AppendJSON(nil))
	}
	level, err := c.SetThinkingLevel(ctx, &commands.SetThinkingLevelParams{Level: commands.ThinkingLevelHigh})
	check("set_thinking_level", err)
	if level.ThinkingLevel == nil || *level.ThinkingLevel != commands.ThinkingLevelHigh {
		t.Errorf("set_thinking_level: %s", level.AppendJSON(nil))
	}
	level, err = c.CycleThinkingLevel(ctx, &commands.CycleThinkingLevelParams{})
	check("cycle_thinking_level", err)
	if level.ThinkingLevel == nil || *level.ThinkingLevel != commands.ThinkingLevelMedium {
		t.Errorf("cycle_thinking_level: %s", level.AppendJSON(nil))
	}
	check("set_steering_mode", c.SetSteeringMode(ctx, &commands.SetSteeringModeParams{Mode: commands.QueueModeAll}))
	check("set_follow_up_mode", c.SetFollowUpMode(ctx, &commands.SetFollowUpModeParams{Mode: commands.QueueModeOneAtATime}))
	compacted, err := c.Compact(ctx, &commands.CompactParams{CustomInstructions: protocol.Some("keep it short")})
	check("compact", err)
	if compacted == nil || compacted.Summary != "a summary" || compacted.TokensBefore.Or(0) != 1234 {
		t.Errorf("compact: %+v", compacted)
	}
	name, err := c.SetSessionName(ctx, &commands.SetSessionNameParams{Name: "renamed"})
	check("set_session_name", err)
	if name.SessionName != "renamed" {
		t.Errorf("set_session_name: %+v", name)
	}
	last, err := c.GetLastAssistantText(ctx, &commands.GetLastAssistantTextParams{})
	check("get_last_assistant_text", err)
	if last.Text == nil || *last.Text != "echo: hi" {
		t.Errorf("get_last_assistant_text: %s", last.AppendJSON(nil))
	}
	_, err = c.ListResumeSessions(ctx, &commands.ListResumeSessionsParams{})
	needsExtension("list_resume_sessions", err)
	_, err = c.ResumeSession(ctx, &commands.ResumeSessionParams{Query: protocol.Some("x")})
	needsExtension("resume_session", err)
	check("new_session", c.NewSession(ctx, &commands.NewSessionParams{}))
	file, err := c.ExportHtml(ctx, &commands.ExportHtmlParams{OutputPath: protocol.Some("/tmp/out.html")})
	check("export_html", err)
	if file.Path != "/tmp/out.html" {
		t.Errorf("export_html: %+v", file)
	}
	// exec_result carries a code beside PizzaPi's text.
	if _, err := rec.Exec(ctx, "fly", []byte(`{}`)); !errors.Is(err, protocol.ErrUnsupported) || err.Error() != "Unknown exec command: fly" {
		t.Errorf("unknown command: %v", err)
	}
	if _, err := rec.Exec(ctx, commands.CommandSetModel, []byte(`{"provider":"fake"}`)); !errors.Is(err, protocol.ErrInvalid) || !strings.Contains(err.Error(), `invalid parameters for set_model`) {
		t.Errorf("invalid parameters: %v", err)
	}
	err = c.ExtensionUIResponse(ctx, &commands.ExtensionUIResponseParams{RequestID: "d1", Cancelled: protocol.Some(true)})
	if !errors.Is(err, protocol.ErrCommandFailed) || !strings.Contains(err.Error(), "no such dialog") {
		t.Errorf("extension_ui_response: %v", err)
	}
	// The agent stops (its input ends) and starts again; what the first one received is checked.
	check("restart", c.Restart(ctx, &commands.RestartParams{}))
	check("end_session", c.EndSession(ctx, &commands.EndSessionParams{}))
	var d struct{ Reason string }
	if err := json.Unmarshal(v.C.Next(t, "disconnected"), &d); err != nil || d.Reason != "Session ended" {
		t.Fatalf("disconnected: %+v %v", d, err)
	}
	for _, name := range commands.Names {
		if !slices.Contains(rec.Ran, name) {
			t.Errorf("command %s was not tested", name)
		}
	}

	select {
	case err := <-s.done: // end_session ends Run, which stops the agent
		s.done <- err
	case <-time.After(servertest.Timeout):
		t.Fatal("Run did not return")
	}
	got := agentLog(t, log)
	if i := slices.IndexFunc(got, func(m map[string]any) bool { return m["EOF"] == true }); i >= 0 {
		got = got[:i+1]
	}
	want := []map[string]any{
		{"type": "get_state"},
		{"type": "get_available_models"},
		{"type": "get_commands"},
		{"type": "get_messages"},
		{"type": "get_commands"},
		{"type": "abort"},
		{"type": "set_model", "provider": "fake", "modelId": "fake-model-2"},
		{"type": "cycle_model"},
		{"type": "get_available_models"},
		{"type": "set_thinking_level", "level": "high"},
		{"type": "cycle_thinking_level"},
		{"type": "set_steering_mode", "mode": "all"},
		{"type": "set_follow_up_mode", "mode": "one-at-a-time"},
		{"type": "compact", "customInstructions": "keep it short"},
		{"type": "get_state"},
		{"type": "get_messages"},
		{"type": "set_session_name", "name": "renamed"},
		{"type": "get_last_assistant_text"},
		{"type": "new_session"},
		{"type": "get_state"},
		{"type": "get_messages"},
		{"type": "export_html", "outputPath": "/tmp/out.html"},
		{"EOF": true},
	}
	if !reflect.DeepEqual(got, want) {
		gotJSON, _ := json.MarshalIndent(got, "", "  ")
		t.Fatalf("the agent received:\n%s", gotJSON)
	}
}
