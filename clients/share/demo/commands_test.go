package demo

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pizzapi/pizzapi/clients/share"
	"github.com/pizzapi/pizzapi/clients/share/internal/sharetest"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/commands"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// TestEveryCommand runs every command of the contract from a viewer through the relay and share
// to the demo agent and back as exec_result, and decodes each result with its generated type.
func TestEveryCommand(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	publish(t, n, u, "s-commands", &Demo{NoOpening: true}, share.Options{})
	v := watch(t, n, u, "s-commands")
	rec := &sharetest.Recorder{X: &servertest.Executor{C: v.C}}
	c := commands.Caller{X: rec}
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	cmds, err := c.GetCommands(ctx, &commands.GetCommandsParams{})
	check("get_commands", err)
	if len(cmds.Commands) != len(Commands) || cmds.Commands[0].Name != "review" {
		t.Errorf("get_commands: %+v", cmds)
	}
	mcp, err := c.Mcp(ctx, &commands.McpParams{Action: protocol.Some(commands.McpActionReload)})
	check("mcp", err)
	if mcp.Action.Or("") != commands.McpActionReload || !strings.Contains(string(mcp.Extra["servers"]), "demo-docs") {
		t.Errorf("mcp: %s", mcp.AppendJSON(nil))
	}
	check("abort", c.Abort(ctx, &commands.AbortParams{}))
	check("set_model", c.SetModel(ctx, &commands.SetModelParams{Provider: "openai", ModelID: "gpt-5"}))
	if err := c.SetModel(ctx, &commands.SetModelParams{Provider: "nope", ModelID: "x"}); err == nil || err.Error() != "Model not found: nope/x" {
		t.Errorf("set_model of an unknown model: %v", err)
	}
	next, err := c.CycleModel(ctx, &commands.CycleModelParams{})
	check("cycle_model", err)
	if next == nil || next.ID != "gemini-2.5-pro" || next.ContextWindow.Or(0) != 1048576 {
		t.Errorf("cycle_model: %+v", next)
	}
	models, err := c.GetAvailableModels(ctx, &commands.GetAvailableModelsParams{})
	check("get_available_models", err)
	if len(models.Models) != len(Models) {
		t.Errorf("get_available_models: %s", models.AppendJSON(nil))
	}
	level, err := c.SetThinkingLevel(ctx, &commands.SetThinkingLevelParams{Level: commands.ThinkingLevelHigh})
	check("set_thinking_level", err)
	if level.ThinkingLevel == nil || *level.ThinkingLevel != commands.ThinkingLevelHigh {
		t.Errorf("set_thinking_level: %s", level.AppendJSON(nil))
	}
	level, err = c.CycleThinkingLevel(ctx, &commands.CycleThinkingLevelParams{})
	check("cycle_thinking_level", err)
	if level.ThinkingLevel == nil || *level.ThinkingLevel != commands.ThinkingLevelXhigh {
		t.Errorf("cycle_thinking_level: %s", level.AppendJSON(nil))
	}
	check("set_steering_mode", c.SetSteeringMode(ctx, &commands.SetSteeringModeParams{Mode: commands.QueueModeAll}))
	check("set_follow_up_mode", c.SetFollowUpMode(ctx, &commands.SetFollowUpModeParams{Mode: commands.QueueModeOneAtATime}))
	compacted, err := c.Compact(ctx, &commands.CompactParams{CustomInstructions: protocol.Some("keep the test names")})
	check("compact", err)
	if compacted == nil || compacted.TokensBefore.Or(0) != 12840 || compacted.Summary == "" {
		t.Errorf("compact: %+v", compacted)
	}
	name, err := c.SetSessionName(ctx, &commands.SetSessionNameParams{Name: "renamed"})
	check("set_session_name", err)
	if name.SessionName != "renamed" {
		t.Errorf("set_session_name: %+v", name)
	}
	last, err := c.GetLastAssistantText(ctx, &commands.GetLastAssistantTextParams{})
	check("get_last_assistant_text", err)
	if last.Text != nil {
		t.Errorf("get_last_assistant_text before any answer: %q", *last.Text)
	}
	list, err := c.ListResumeSessions(ctx, &commands.ListResumeSessionsParams{Limit: protocol.Some[int64](1)})
	check("list_resume_sessions", err)
	if len(list.Sessions) != 1 || list.Sessions[0].ID != "demo-1" {
		t.Errorf("list_resume_sessions: %s", list.AppendJSON(nil))
	}
	resumed, err := c.ResumeSession(ctx, &commands.ResumeSessionParams{SessionPath: protocol.Some("/home/demo/.pi/sessions/demo-2.jsonl")})
	check("resume_session", err)
	if resumed.Session.ID != "demo-2" {
		t.Errorf("resume_session: %s", resumed.AppendJSON(nil))
	}
	if _, err := c.ResumeSession(ctx, &commands.ResumeSessionParams{Query: protocol.Some("no such session")}); err == nil {
		t.Error("resume_session found a session that does not exist")
	}
	check("new_session", c.NewSession(ctx, &commands.NewSessionParams{}))
	if _, err := c.ExportHtml(ctx, &commands.ExportHtmlParams{}); !errors.Is(err, protocol.ErrUnsupported) || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("export_html: %v", err)
	}
	check("restart", c.Restart(ctx, &commands.RestartParams{}))
	if err := c.ExtensionUIResponse(ctx, &commands.ExtensionUIResponseParams{RequestID: "d1", Confirmed: protocol.Some(true)}); err == nil || !strings.Contains(err.Error(), "no such dialog") {
		t.Errorf("extension_ui_response: %v", err)
	}

	// What the contract does not allow is refused by share, with the viewer told why.
	if _, err := rec.Exec(ctx, "fly", []byte(`{}`)); !errors.Is(err, protocol.ErrUnsupported) || err.Error() != "Unknown exec command: fly" {
		t.Errorf("unknown command: %v", err)
	}
	if _, err := rec.Exec(ctx, commands.CommandSetThinkingLevel, []byte(`{"level":"max"}`)); !errors.Is(err, protocol.ErrInvalid) || !strings.Contains(err.Error(), "invalid parameters for set_thinking_level") || !strings.Contains(err.Error(), "/level") {
		t.Errorf("invalid parameters: %v", err)
	}

	check("end_session", c.EndSession(ctx, &commands.EndSessionParams{}))
	var d viewer.Disconnected
	v.C.NextInto(t, "disconnected", &d)
	if d.Reason != "Session ended" {
		t.Fatalf("disconnected: %q", d.Reason)
	}
	for _, name := range commands.Names {
		if !slices.Contains(rec.Ran, name) {
			t.Errorf("command %s was not tested", name)
		}
	}
}
