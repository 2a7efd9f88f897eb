package share

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/pizzapi/pizzapi/protocol/commands"
)

// Extension dialogs: pi's extensions ask the user with select, confirm, input and editor
// requests (pi's extension UI protocol, `extension_ui_request` on its output) and wait for an
// `extension_ui_response`. share relays the request to viewers like any event; a viewer answers
// with the exec command `extension_ui_response` ({requestId, value | confirmed | cancelled}).
// A dialog nobody answers is cancelled after DialogTimeout, so that the agent does not wait
// forever. Every answer sent to pi is also published (an `extension_ui_response` event), so that
// all viewers close the dialog.
//
// AskUserQuestion (the PizzaPi extension's tool) asks through an input dialog titled with its
// question; while it waits, a viewer's message is the answer (PizzaPi's viewers answer questions
// with an ordinary `input`), and it has no timeout of its own.

// DefaultDialogTimeout is the default of RPC.DialogTimeout.
const DefaultDialogTimeout = 5 * time.Minute

// dialogs are the extension dialogs waiting for an answer, by request id.
type dialogs map[string]*dialog

// dialog is one extension dialog waiting for an answer.
type dialog struct {
	method   string
	question bool        // the input dialog of a running AskUserQuestion call
	timer    *time.Timer // cancels the dialog (nil for a question)
}

// followQuestion keeps the questions of running AskUserQuestion calls.
func (r *RPC) followQuestion(typ string, line []byte) {
	var ev struct {
		ToolCallID string `json:"toolCallId"`
		ToolName   string `json:"toolName"`
		Args       struct {
			Question string `json:"question"`
		} `json:"args"`
	}
	if json.Unmarshal(line, &ev) != nil || ev.ToolName != "AskUserQuestion" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if typ == "tool_execution_start" {
		r.asked[ev.ToolCallID] = ev.Args.Question
	} else {
		delete(r.asked, ev.ToolCallID)
	}
}

// openDialog records a dialog the agent opened: the input dialog of a pending question waits
// for a viewer's message, any other dialog for a viewer's answer or the timeout.
func (r *RPC) openDialog(line []byte, sink Sink) {
	var req struct {
		ID      string `json:"id"`
		Method  string `json:"method"`
		Title   string `json:"title"`
		Timeout int64  `json:"timeout"`
	}
	if json.Unmarshal(line, &req) != nil || req.ID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d := &dialog{method: req.Method}
	if req.Method == "input" {
		for _, q := range r.asked {
			if q = strings.TrimSpace(q); q != "" && q == req.Title {
				d.question = true
			}
		}
	}
	if !d.question {
		wait := orDefault(r.DialogTimeout, DefaultDialogTimeout)
		if req.Timeout > 0 && time.Duration(req.Timeout)*time.Millisecond < wait {
			// The agent gives up by itself then; keep the dialog until just after.
			wait = time.Duration(req.Timeout)*time.Millisecond + time.Second
		}
		id := req.ID
		d.timer = time.AfterFunc(wait, func() {
			_ = r.closeDialog(id, map[string]any{"cancelled": true}, sink, "timeout")
		})
	}
	r.dialogs[req.ID] = d
}

// answerQuestion answers the pending AskUserQuestion with a viewer's message and reports whether
// there was one.
func (r *RPC) answerQuestion(text string) bool {
	r.mu.Lock()
	id := ""
	for k, d := range r.dialogs {
		if d.question {
			id = k
		}
	}
	sink := r.out
	r.mu.Unlock()
	if id == "" {
		return false
	}
	return r.closeDialog(id, map[string]any{"value": text}, sink, "answered") == nil
}

// ExtensionUIResponse implements commands.Handler: a viewer's answer to an extension's dialog.
func (r *RPC) ExtensionUIResponse(_ context.Context, p *commands.ExtensionUIResponseParams) error {
	sink, err := r.running()
	if err != nil {
		return err
	}
	answer := map[string]any{}
	if p.Cancelled.Or(false) {
		answer["cancelled"] = true
	} else if ok, given := p.Confirmed.Get(); given {
		answer["confirmed"] = ok
	} else if v, given := p.Value.Get(); given {
		answer["value"] = v
	} else {
		return errors.New("extension_ui_response needs a value, confirmed or cancelled")
	}
	return r.closeDialog(p.RequestID, answer, sink, "answered")
}

// closeDialog sends the answer to a pending dialog and publishes it.
func (r *RPC) closeDialog(id string, answer map[string]any, sink Sink, reason string) error {
	r.mu.Lock()
	d, ok := r.dialogs[id]
	delete(r.dialogs, id)
	r.mu.Unlock()
	if !ok {
		return errors.New("no such dialog is waiting for an answer: " + id)
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	msg := map[string]any{"type": "extension_ui_response", "id": id}
	for k, v := range answer {
		msg[k] = v
	}
	if err := r.send(msg); err != nil {
		return err
	}
	msg["reason"] = reason
	if ev, err := json.Marshal(msg); err == nil && sink != nil {
		sink.Event(ev)
	}
	return nil
}

// dropDialogs forgets the dialogs of an agent that stopped.
func (r *RPC) dropDialogs() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, d := range r.dialogs {
		if d.timer != nil {
			d.timer.Stop()
		}
		delete(r.dialogs, id)
	}
}
