package core

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/bus"
)

// Notification kinds (the names PizzaPi's push subscriptions filter on).
const (
	NotifyAgentFinished   = "agent_finished"
	NotifyAgentNeedsInput = "agent_needs_input"
	NotifyAgentError      = "agent_error"
)

// Notification tells a user about something in a session nobody is watching.
type Notification struct {
	Kind      string
	UserID    string
	SessionID string
	Title     string
	Body      string
}

// Notifier delivers notifications (Web Push in a later version). Notify must not block for long.
type Notifier interface {
	Notify(ctx context.Context, n Notification)
}

// maybeNotify decides whether an event deserves a notification. It looks at the event type
// first, so the common events (token deltas) cost nothing; only for the few kinds that notify
// does it count viewers and load the session.
func (c *Core) maybeNotify(sessionID, typ string, raw []byte) {
	if c.notifier == nil {
		return
	}
	var n Notification
	switch typ {
	case protocol.AgentEventAgentEnd:
		n = Notification{Kind: NotifyAgentFinished, Title: "Agent finished", Body: "The agent finished its work."}
	case protocol.AgentEventToolExecutionStart:
		var ev protocol.ToolExecutionStartEvent
		if ev.UnmarshalJSON(raw) != nil || ev.ToolName != "AskUserQuestion" {
			return
		}
		n = Notification{Kind: NotifyAgentNeedsInput, Title: "Agent needs input", Body: truncate(string(member(ev.Args, "question")), 120)}
	case protocol.AgentEventCLIError:
		var ev protocol.CliErrorEvent
		if ev.UnmarshalJSON(raw) != nil {
			return
		}
		n = Notification{Kind: NotifyAgentError, Title: "Agent error", Body: truncate(ev.Message, 120)}
	default:
		return
	}
	go func() {
		ctx, cancel := background()
		defer cancel()
		if viewers, err := c.bus.Count(ctx, bus.SessionViewers+sessionID); err != nil || viewers > 0 {
			return
		}
		s, err := c.live.Session(ctx, sessionID)
		if err != nil {
			return
		}
		n.UserID, n.SessionID = s.UserID, sessionID
		c.notifier.Notify(ctx, n)
	}()
}

// truncate shortens s to at most n characters, unquoting a JSON string first.
func truncate(s string, n int) string {
	if len(s) >= 2 && s[0] == '"' {
		var v string
		if json.Unmarshal([]byte(s), &v) == nil {
			s = v
		}
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
