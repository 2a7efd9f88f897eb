// Package watch is the terminal viewer behind `pizzapi watch`: it lists a user's live sessions
// from /hub, or follows one session on /viewer and prints its conversation readably (assistant
// text as it streams, thinking, tool calls and their results, todos), with colour on a terminal.
package watch

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Renderer turns agent events into text.
type Renderer struct {
	w     io.Writer
	color bool
	// inText is true while a streamed assistant text (or thinking) is open on the current line.
	inText     bool
	inThinking bool
	model      string // last model a heartbeat reported
}

// NewRenderer writes to w, with ANSI colours when color is set.
func NewRenderer(w io.Writer, color bool) *Renderer { return &Renderer{w: w, color: color} }

const (
	dim    = "\x1b[2m"
	bold   = "\x1b[1m"
	cyan   = "\x1b[36m"
	yellow = "\x1b[33m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	reset  = "\x1b[0m"
)

func (r *Renderer) paint(style, s string) string {
	if !r.color {
		return s
	}
	return style + s + reset
}

// endStream closes an open streamed line.
func (r *Renderer) endStream() {
	if r.inText || r.inThinking {
		fmt.Fprintln(r.w)
		r.inText, r.inThinking = false, false
	}
}

// Line prints a status line (connection changes, errors).
func (r *Renderer) Line(format string, args ...any) {
	r.endStream()
	fmt.Fprintln(r.w, r.paint(dim, fmt.Sprintf(format, args...)))
}

// event is the part of an agent event the renderer reads.
type event struct {
	Type                  string          `json:"type"`
	Message               *message        `json:"message"`
	AssistantMessageEvent *assistantEvent `json:"assistantMessageEvent"`
	ToolName              string          `json:"toolName"`
	Args                  json.RawMessage `json:"args"`
	Result                json.RawMessage `json:"result"`
	IsError               bool            `json:"isError"`
	Todos                 []todo          `json:"todos"`
	State                 *struct {
		Messages    []message `json:"messages"`
		SessionName *string   `json:"sessionName"`
	} `json:"state"`
	Model *struct {
		Provider string `json:"provider"`
		ID       string `json:"id"`
	} `json:"model"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type assistantEvent struct {
	Type  string `json:"type"`
	Delta string `json:"delta"`
}

type todo struct {
	Content string `json:"content"`
	Text    string `json:"text"`
	Status  string `json:"status"`
}

type block struct {
	Type            string          `json:"type"`
	Text            string          `json:"text"`
	Thinking        string          `json:"thinking"`
	Name            string          `json:"name"`
	Arguments       json.RawMessage `json:"arguments"`
	DurationSeconds *float64        `json:"durationSeconds"`
}

// blocks returns a message's content as blocks (a plain string becomes one text block).
func (m *message) blocks() []block {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return []block{{Type: "text", Text: s}}
	}
	var bs []block
	_ = json.Unmarshal(m.Content, &bs)
	return bs
}

// Event renders one agent event.
func (r *Renderer) Event(raw []byte) {
	var e event
	if json.Unmarshal(raw, &e) != nil {
		return
	}
	switch e.Type {
	case "session_active":
		if e.State != nil {
			r.Transcript(e.State.Messages)
		}
	case "message_update":
		if e.AssistantMessageEvent == nil {
			return
		}
		switch e.AssistantMessageEvent.Type {
		case "text_delta":
			if !r.inText {
				r.endStream()
				fmt.Fprint(r.w, r.paint(bold+cyan, "assistant: "))
				r.inText = true
			}
			fmt.Fprint(r.w, e.AssistantMessageEvent.Delta)
		case "thinking_delta":
			if !r.inThinking {
				r.endStream()
				fmt.Fprint(r.w, r.paint(dim, "thinking: "))
				r.inThinking = true
			}
			fmt.Fprint(r.w, r.paint(dim, e.AssistantMessageEvent.Delta))
		}
	case "message_end":
		if e.Message != nil && e.Message.Role == "user" {
			r.endStream()
			r.message(*e.Message)
			return
		}
		if e.Message != nil && e.Message.Role == "assistant" {
			for _, b := range e.Message.blocks() {
				if b.Type == "thinking" && b.DurationSeconds != nil {
					r.endStream()
					fmt.Fprintln(r.w, r.paint(dim, fmt.Sprintf("(thought for %gs)", *b.DurationSeconds)))
				}
			}
		}
		r.endStream()
	case "tool_execution_start":
		r.endStream()
		fmt.Fprintf(r.w, "%s %s\n", r.paint(yellow, "▶ "+e.ToolName), clip(compact(e.Args), 200))
	case "tool_execution_end":
		r.endStream()
		style, mark := green, "✓ "
		if e.IsError {
			style, mark = red, "✗ "
		}
		fmt.Fprintf(r.w, "%s %s\n", r.paint(style, mark+e.ToolName), clip(resultText(e.Result), 400))
	case "todo_update":
		r.endStream()
		fmt.Fprintln(r.w, r.paint(bold, "todo:"))
		for _, t := range e.Todos {
			box := "[ ]"
			if t.Status == "completed" || t.Status == "done" {
				box = "[x]"
			} else if t.Status == "in_progress" {
				box = "[~]"
			}
			text := t.Content
			if text == "" {
				text = t.Text
			}
			fmt.Fprintf(r.w, "  %s %s\n", box, text)
		}
	case "heartbeat":
		if e.Model != nil {
			if m := e.Model.Provider + "/" + e.Model.ID; m != r.model {
				r.model = m
				r.Line("model: %s", m)
			}
		}
	case "agent_end":
		r.endStream()
		fmt.Fprintln(r.w, r.paint(dim, "— agent finished —"))
	case "cli_error":
		r.endStream()
		var ce struct{ Message string }
		_ = json.Unmarshal(raw, &ce)
		fmt.Fprintln(r.w, r.paint(red, "error: "+ce.Message))
	}
}

// Transcript prints a whole list of messages (a snapshot).
func (r *Renderer) Transcript(msgs []message) {
	r.endStream()
	for _, m := range msgs {
		r.message(m)
	}
}

func (r *Renderer) message(m message) {
	for _, b := range m.blocks() {
		switch b.Type {
		case "text":
			if strings.TrimSpace(b.Text) == "" {
				continue
			}
			who := m.Role
			style := bold + cyan
			if who == "user" {
				style = bold + green
			}
			fmt.Fprintf(r.w, "%s%s\n", r.paint(style, who+": "), b.Text)
		case "thinking":
			fmt.Fprintln(r.w, r.paint(dim, "thinking: "+clip(b.Thinking, 400)))
		case "toolCall":
			fmt.Fprintf(r.w, "%s %s\n", r.paint(yellow, "▶ "+b.Name), clip(compact(b.Arguments), 200))
		}
	}
}

func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// resultText extracts the text of a tool result ({content:[{type:text,text}]} in pi) or shows it.
func resultText(raw json.RawMessage) string {
	var r struct {
		Content []block `json:"content"`
	}
	if json.Unmarshal(raw, &r) == nil && len(r.Content) > 0 {
		var parts []string
		for _, b := range r.Content {
			if b.Type == "text" {
				parts = append(parts, b.Text)
			}
		}
		return strings.Join(parts, "\n")
	}
	return compact(raw)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
