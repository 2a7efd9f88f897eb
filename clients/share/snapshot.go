package share

import (
	"encoding/json"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
)

// TokenUsage is the session's token count and cost so far.
type TokenUsage struct {
	Input      int64
	Output     int64
	CacheRead  int64
	CacheWrite int64
	Cost       float64
}

// State is what the publisher knows about the session: it follows the events it publishes (the
// transcript from message_end, activity from agent_start/agent_end, the todo list from
// todo_update, ...) and what the Source reports through Sink.Update.
type State struct {
	// Active is true while the agent works on a prompt.
	Active bool
	// Model is the current model (nil when unknown).
	Model *protocol.AgentModel
	// ThinkingLevel is off, minimal, low, medium, high or xhigh ("" when unknown).
	ThinkingLevel string
	// SessionName is the session's display name ("" for none).
	SessionName string
	// Cwd is the agent's working directory.
	Cwd string
	// Messages is the transcript (pi AgentMessage objects).
	Messages []json.RawMessage
	// TodoList is the agent's current todo list (nil for none).
	TodoList []json.RawMessage
	// AvailableModels are the models viewers may switch to.
	AvailableModels []protocol.AgentModel
	// Commands are the agent's own commands, which viewers run by typing "/name".
	Commands []protocol.AgentCommand
	// PendingQuestion is the question the agent waits on, nil for none.
	PendingQuestion *protocol.PendingQuestion
	// TokenUsage adds up the usage of the assistant messages.
	TokenUsage TokenUsage
}

// effect is what an observed event calls for beyond relaying it.
type effect int

const (
	// nothing: the event changed nothing heartbeats or snapshots report.
	nothing effect = iota
	// heartbeat: a heartbeat follows the event.
	heartbeat
	// snapshot: a heartbeat and a session_active snapshot follow the event, so that the snapshot
	// the relay stores for late joiners is current.
	snapshot
)

// observe updates the state from an event the source published and reports what the change calls
// for. Streaming deltas, the bulk of the events, are not decoded at all.
func (s *State) observe(typ string, raw json.RawMessage) effect {
	switch typ {
	case protocol.AgentEventAgentStart:
		s.Active = true
		return heartbeat
	case protocol.AgentEventAgentEnd:
		// The end of a run: the transcript is complete again.
		s.Active = false
		return snapshot
	case "thinking_level_changed":
		// pi reports the level it applied: clamped to what the model supports, on a request and
		// on a model switch.
		var ev struct {
			Level string `json:"level"`
		}
		if json.Unmarshal(raw, &ev) == nil && ev.Level != "" && ev.Level != s.ThinkingLevel {
			s.ThinkingLevel = ev.Level
			return heartbeat
		}
	case "session_info_changed":
		// The name, set by a command, the agent or an extension.
		var ev struct {
			Name *string `json:"name"`
		}
		if json.Unmarshal(raw, &ev) == nil {
			name := deref(ev.Name)
			if name != s.SessionName {
				s.SessionName = name
				return snapshot
			}
		}
	case protocol.AgentEventMessageEnd:
		var ev protocol.MessageEndEvent
		if ev.UnmarshalJSON(raw) == nil {
			if m, ok := ev.Message.Get(); ok {
				msg := m.AppendJSON(nil)
				s.Messages = append(s.Messages, msg)
				s.addUsage(msg)
			}
		}
	case protocol.AgentEventTodoUpdate:
		var ev protocol.TodoUpdateEvent
		if ev.UnmarshalJSON(raw) == nil {
			if todos, ok := ev.Todos.Get(); ok {
				s.TodoList = todos
			}
		}
	case protocol.AgentEventModelSelect:
		var ev protocol.ModelSelectEvent
		if ev.UnmarshalJSON(raw) == nil {
			if m, _ := ev.Model.Get(); m != nil {
				s.Model = m
				return heartbeat
			}
		}
	case protocol.AgentEventToolExecutionStart:
		var ev protocol.ToolExecutionStartEvent
		if ev.UnmarshalJSON(raw) == nil && ev.ToolName == "AskUserQuestion" {
			var args struct {
				Question string          `json:"question"`
				Options  json.RawMessage `json:"options"`
			}
			_ = json.Unmarshal(ev.Args, &args)
			s.PendingQuestion = &protocol.PendingQuestion{ToolCallID: ev.ToolCallID.Or(""), Question: protocol.Some(args.Question), Options: args.Options}
			return heartbeat
		}
	case protocol.AgentEventToolExecutionEnd:
		if s.PendingQuestion != nil {
			var ev protocol.ToolExecutionEndEvent
			if ev.UnmarshalJSON(raw) == nil && ev.ToolCallID.Or("") == s.PendingQuestion.ToolCallID {
				s.PendingQuestion = nil
				return heartbeat
			}
		}
	case protocol.AgentEventHeartbeat:
		// A recorded stream's own heartbeats: adopt what they say.
		var ev protocol.HeartbeatEvent
		if ev.UnmarshalJSON(raw) == nil {
			s.Active = ev.Active
			if m, _ := ev.Model.Get(); m != nil {
				s.Model = m
			}
			if name, ok := ev.SessionName.Get(); ok {
				s.SessionName = deref(name)
			}
			if level, ok := ev.ThinkingLevel.Get(); ok {
				s.ThinkingLevel = deref(level)
			}
		}
	case protocol.AgentEventSessionActive:
		// A recorded stream's own snapshot replaces the transcript.
		var ev protocol.SessionActiveEvent
		if ev.UnmarshalJSON(raw) == nil {
			st := ev.State
			s.Messages = st.Messages.Or(nil)
			if m, _ := st.Model.Get(); m != nil {
				s.Model = m
			}
			if name, ok := st.SessionName.Get(); ok {
				s.SessionName = deref(name)
			}
			if level, ok := st.ThinkingLevel.Get(); ok {
				s.ThinkingLevel = deref(level)
			}
			if todos, ok := st.TodoList.Get(); ok {
				s.TodoList = todos
			}
		}
	}
	return nothing
}

// addUsage adds an assistant message's usage to the totals.
func (s *State) addUsage(msg json.RawMessage) {
	var m struct {
		Role  string `json:"role"`
		Usage *struct {
			Input      int64 `json:"input"`
			Output     int64 `json:"output"`
			CacheRead  int64 `json:"cacheRead"`
			CacheWrite int64 `json:"cacheWrite"`
			Cost       struct {
				Total float64 `json:"total"`
			} `json:"cost"`
		} `json:"usage"`
	}
	if json.Unmarshal(msg, &m) != nil || m.Role != "assistant" || m.Usage == nil {
		return
	}
	s.TokenUsage.Input += m.Usage.Input
	s.TokenUsage.Output += m.Usage.Output
	s.TokenUsage.CacheRead += m.Usage.CacheRead
	s.TokenUsage.CacheWrite += m.Usage.CacheWrite
	s.TokenUsage.Cost += m.Usage.Cost.Total
}

// nullable returns nil for "", for fields that are JSON null when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// orEmpty returns v, or an empty slice for nil, for arrays that are [] when empty.
func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// sessionActiveEvent builds the session_active snapshot (reference §3.1.3).
func (s *State) sessionActiveEvent() []byte {
	ev := protocol.SessionActiveEvent{
		Type: protocol.AgentEventSessionActive,
		State: protocol.SessionActiveState{
			Messages:        protocol.Some(orEmpty(s.Messages)),
			Model:           protocol.Some(s.Model),
			ThinkingLevel:   protocol.Some(nullable(s.ThinkingLevel)),
			SessionName:     protocol.Some(nullable(s.SessionName)),
			Cwd:             protocol.Some(&s.Cwd),
			AvailableModels: protocol.Some(orEmpty(s.AvailableModels)),
			TodoList:        protocol.Some(orEmpty(s.TodoList)),
		},
	}
	return ev.AppendJSON(nil)
}

// capabilitiesEvent builds the capabilities event a viewer's greeting is answered with.
func (s *State) capabilitiesEvent() []byte {
	ev := protocol.CapabilitiesEvent{
		Type:     protocol.AgentEventCapabilities,
		Models:   orEmpty(s.AvailableModels),
		Commands: orEmpty(s.Commands),
	}
	return ev.AppendJSON(nil)
}

// cliErrorEvent builds a cli_error event.
func cliErrorEvent(message, source string) []byte {
	ev := protocol.CliErrorEvent{
		Type:    protocol.AgentEventCLIError,
		Message: message,
		Source:  protocol.Some(nullable(source)),
		Ts:      protocol.Some(float64(time.Now().UnixMilli())),
	}
	return ev.AppendJSON(nil)
}

// modelSetResultEvent builds the answer to a model change.
func modelSetResultEvent(ok bool, provider, modelID, message string) []byte {
	ev := protocol.ModelSetResultEvent{Type: protocol.AgentEventModelSetResult, OK: ok, Provider: provider, ModelID: modelID}
	if message != "" {
		ev.Message = protocol.Some(message)
	}
	return ev.AppendJSON(nil)
}
