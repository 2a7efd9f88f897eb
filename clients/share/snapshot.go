package share

import (
	"encoding/json"
	"time"
)

// Model is a language model as heartbeats, snapshots and capabilities describe it (the fields
// PizzaPi's CLI sends; pi's fuller Model objects decode into it).
type Model struct {
	Provider      string `json:"provider"`
	ID            string `json:"id"`
	Name          string `json:"name,omitempty"`
	Reasoning     bool   `json:"reasoning"`
	ContextWindow int64  `json:"contextWindow,omitempty"`
}

// CommandInfo is a command viewers can run by typing "/name".
type CommandInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// TokenUsage is the session's token count and cost so far.
type TokenUsage struct {
	Input      int64   `json:"input"`
	Output     int64   `json:"output"`
	CacheRead  int64   `json:"cacheRead"`
	CacheWrite int64   `json:"cacheWrite"`
	Cost       float64 `json:"cost"`
}

// State is what the publisher knows about the session: it follows the events it publishes (the
// transcript from message_end, activity from agent_start/agent_end, the todo list from
// todo_update, ...) and what the Source reports through Sink.Update.
type State struct {
	// Active is true while the agent works on a prompt.
	Active bool
	// Model is the current model (nil when unknown).
	Model *Model
	// ThinkingLevel is off, minimal, low, medium, high or xhigh ("" when unknown).
	ThinkingLevel string
	// SessionName is the session's display name ("" for none).
	SessionName string
	// Cwd is the agent's working directory.
	Cwd string
	// Messages is the transcript (pi AgentMessage objects).
	Messages []json.RawMessage
	// TodoList is the agent's current todo list (a JSON array; nil for none).
	TodoList json.RawMessage
	// AvailableModels are the models viewers may switch to.
	AvailableModels []Model
	// Commands are the commands viewers may run.
	Commands []CommandInfo
	// PendingQuestion is the question the agent waits on ({toolCallId, question, options}), nil
	// for none.
	PendingQuestion json.RawMessage
	// TokenUsage adds up the usage of the assistant messages.
	TokenUsage TokenUsage
}

// observe updates the state from an event the source published and reports whether the change
// deserves a heartbeat. Streaming deltas, the bulk of the events, are not decoded at all.
func (s *State) observe(typ string, raw json.RawMessage) (heartbeat bool) {
	switch typ {
	case "agent_start":
		s.Active = true
		return true
	case "agent_end":
		s.Active = false
		return true
	case "message_end":
		var ev struct {
			Message json.RawMessage `json:"message"`
		}
		if json.Unmarshal(raw, &ev) == nil && len(ev.Message) > 0 && string(ev.Message) != "null" {
			s.Messages = append(s.Messages, ev.Message)
			s.addUsage(ev.Message)
		}
	case "todo_update":
		var ev struct {
			Todos json.RawMessage `json:"todos"`
		}
		if json.Unmarshal(raw, &ev) == nil && len(ev.Todos) > 0 {
			s.TodoList = ev.Todos
		}
	case "model_select":
		var ev struct {
			Model *Model `json:"model"`
		}
		if json.Unmarshal(raw, &ev) == nil && ev.Model != nil {
			s.Model = ev.Model
			return true
		}
	case "tool_execution_start":
		var ev struct {
			ToolCallID string `json:"toolCallId"`
			ToolName   string `json:"toolName"`
			Args       struct {
				Question string          `json:"question"`
				Options  json.RawMessage `json:"options"`
			} `json:"args"`
		}
		if json.Unmarshal(raw, &ev) == nil && ev.ToolName == "AskUserQuestion" {
			q := map[string]any{"toolCallId": ev.ToolCallID, "question": ev.Args.Question}
			if len(ev.Args.Options) > 0 {
				q["options"] = ev.Args.Options
			}
			s.PendingQuestion, _ = json.Marshal(q)
			return true
		}
	case "tool_execution_end":
		if s.PendingQuestion != nil {
			var ev, q struct {
				ToolCallID string `json:"toolCallId"`
			}
			_ = json.Unmarshal(s.PendingQuestion, &q)
			if json.Unmarshal(raw, &ev) == nil && ev.ToolCallID == q.ToolCallID {
				s.PendingQuestion = nil
				return true
			}
		}
	case "heartbeat":
		// A recorded stream's own heartbeats: adopt what they say.
		var ev struct {
			Active        *bool   `json:"active"`
			Model         *Model  `json:"model"`
			SessionName   *string `json:"sessionName"`
			ThinkingLevel *string `json:"thinkingLevel"`
		}
		if json.Unmarshal(raw, &ev) == nil {
			if ev.Active != nil {
				s.Active = *ev.Active
			}
			if ev.Model != nil {
				s.Model = ev.Model
			}
			if ev.SessionName != nil {
				s.SessionName = *ev.SessionName
			}
			if ev.ThinkingLevel != nil {
				s.ThinkingLevel = *ev.ThinkingLevel
			}
		}
	case "session_active":
		// A recorded stream's own snapshot replaces the transcript.
		var ev struct {
			State struct {
				Messages      []json.RawMessage `json:"messages"`
				Model         *Model            `json:"model"`
				SessionName   *string           `json:"sessionName"`
				ThinkingLevel *string           `json:"thinkingLevel"`
				TodoList      json.RawMessage   `json:"todoList"`
			} `json:"state"`
		}
		if json.Unmarshal(raw, &ev) == nil {
			s.Messages = ev.State.Messages
			if ev.State.Model != nil {
				s.Model = ev.State.Model
			}
			if ev.State.SessionName != nil {
				s.SessionName = *ev.State.SessionName
			}
			if ev.State.ThinkingLevel != nil {
				s.ThinkingLevel = *ev.State.ThinkingLevel
			}
			if len(ev.State.TodoList) > 0 {
				s.TodoList = ev.State.TodoList
			}
		}
	}
	return false
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

// orEmptyArray returns raw, or [] when it is empty.
func orEmptyArray(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("[]")
	}
	return raw
}

// sessionActiveEvent builds the session_active snapshot (reference §3.1.3).
func (s *State) sessionActiveEvent() []byte {
	messages := s.Messages
	if messages == nil {
		messages = []json.RawMessage{}
	}
	models := s.AvailableModels
	if models == nil {
		models = []Model{}
	}
	ev := struct {
		Type  string `json:"type"`
		State struct {
			Messages        []json.RawMessage `json:"messages"`
			Model           *Model            `json:"model"`
			ThinkingLevel   *string           `json:"thinkingLevel"`
			SessionName     *string           `json:"sessionName"`
			Cwd             string            `json:"cwd"`
			AvailableModels []Model           `json:"availableModels"`
			TodoList        json.RawMessage   `json:"todoList"`
		} `json:"state"`
	}{Type: "session_active"}
	ev.State.Messages = messages
	ev.State.Model = s.Model
	ev.State.ThinkingLevel = nullable(s.ThinkingLevel)
	ev.State.SessionName = nullable(s.SessionName)
	ev.State.Cwd = s.Cwd
	ev.State.AvailableModels = models
	ev.State.TodoList = orEmptyArray(s.TodoList)
	b, _ := json.Marshal(ev)
	return b
}

// capabilitiesEvent builds the capabilities event a viewer's greeting is answered with.
func (s *State) capabilitiesEvent() []byte {
	models := s.AvailableModels
	if models == nil {
		models = []Model{}
	}
	commands := s.Commands
	if commands == nil {
		commands = []CommandInfo{}
	}
	b, _ := json.Marshal(struct {
		Type     string        `json:"type"`
		Models   []Model       `json:"models"`
		Commands []CommandInfo `json:"commands"`
	}{"capabilities", models, commands})
	return b
}

// cliErrorEvent builds a cli_error event.
func cliErrorEvent(message, source string) []byte {
	b, _ := json.Marshal(struct {
		Type    string  `json:"type"`
		Message string  `json:"message"`
		Source  *string `json:"source"`
		Ts      int64   `json:"ts"`
	}{"cli_error", message, nullable(source), time.Now().UnixMilli()})
	return b
}

// modelSetResultEvent builds the answer to a model change.
func modelSetResultEvent(ok bool, provider, modelID, message string) []byte {
	b, _ := json.Marshal(struct {
		Type     string `json:"type"`
		OK       bool   `json:"ok"`
		Provider string `json:"provider"`
		ModelID  string `json:"modelId"`
		Message  string `json:"message,omitempty"`
	}{"model_set_result", ok, provider, modelID, message})
	return b
}
