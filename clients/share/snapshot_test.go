package share

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
)

// TestBuiltEventsMatchTheContract: the events the CLI builds itself (heartbeat, session_active,
// capabilities, cli_error, model_set_result) decode as the contract's agent events with their own
// schemas, and carry what the state says.
func TestBuiltEventsMatchTheContract(t *testing.T) {
	s := State{Cwd: "/w", SessionName: "fix it", ThinkingLevel: "high"}
	model := protocol.AgentModel{Provider: "anthropic", ID: "claude-sonnet-4-5", Name: protocol.Some("Claude Sonnet 4.5")}
	s.Model = &model
	s.AvailableModels = []protocol.AgentModel{model}
	s.Commands = []protocol.AgentCommand{{Name: "review", Description: protocol.Some("Review the changes")}}
	observe := func(raw string) effect {
		var ev protocol.AgentEvent
		if err := ev.UnmarshalJSON([]byte(raw)); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return s.observe(ev.Type, json.RawMessage(raw))
	}
	observe(`{"type":"agent_start"}`)
	observe(`{"type":"message_end","message":{"role":"assistant","content":[{"type":"text","text":"hi"}],"usage":{"input":10,"output":5,"cacheRead":2,"cacheWrite":0,"cost":{"total":0.5}}}}`)
	observe(`{"type":"todo_update","todos":[{"id":"1","content":"a","status":"pending"}],"ts":1}`)
	if observe(`{"type":"tool_execution_start","toolCallId":"q1","toolName":"AskUserQuestion","args":{"question":"Which branch?","options":["main","dev"]}}`) != heartbeat {
		t.Fatal("a question does not call for a heartbeat")
	}

	built := map[string][]byte{
		"heartbeat":        s.heartbeatEvent(time.Now().Add(-time.Second), time.Now()),
		"session_active":   s.sessionActiveEvent(),
		"capabilities":     s.capabilitiesEvent(),
		"cli_error":        cliErrorEvent("boom", "pizzapi share"),
		"model_set_result": modelSetResultEvent(false, "x", "y", "Model not found: x/y"),
	}
	for typ, raw := range built {
		var ev protocol.AgentEvent
		if err := ev.UnmarshalJSON(raw); err != nil || ev.Type != typ {
			t.Errorf("%s does not match the contract: %v\n%s", typ, err, raw)
		}
	}
	var hb protocol.HeartbeatEvent
	if err := hb.UnmarshalJSON(built["heartbeat"]); err != nil {
		t.Fatal(err)
	}
	q, _ := hb.PendingQuestion.Get()
	usage, _ := hb.TokenUsage.Get()
	if !hb.Active || q == nil || q.Question.Or("") != "Which branch?" || string(q.Options) != `["main","dev"]` ||
		usage.Input.Or(0) != 10 || usage.Cost.Or(0) != 0.5 || len(hb.TodoList.Or(nil)) != 1 || *hb.ThinkingLevel.Or(nil) != "high" {
		t.Errorf("heartbeat: %s", built["heartbeat"])
	}
	var sa protocol.SessionActiveEvent
	if err := sa.UnmarshalJSON(built["session_active"]); err != nil {
		t.Fatal(err)
	}
	if len(sa.State.Messages.Or(nil)) != 1 || *sa.State.SessionName.Or(nil) != "fix it" || len(sa.State.AvailableModels.Or(nil)) != 1 {
		t.Errorf("session_active: %s", built["session_active"])
	}

	// The answer ends the question.
	if observe(`{"type":"tool_execution_end","toolCallId":"q1","toolName":"AskUserQuestion","result":{},"isError":false}`) != heartbeat || s.PendingQuestion != nil {
		t.Fatal("the question is still pending")
	}
	if err := hb.UnmarshalJSON(s.heartbeatEvent(time.Now(), time.Now())); err != nil || hb.PendingQuestion.Or(&protocol.PendingQuestion{}) != nil {
		t.Errorf("heartbeat after the answer: %v %s", err, hb.AppendJSON(nil))
	}
}
