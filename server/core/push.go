package core

import (
	"context"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
)

// Notification kinds: the names PizzaPi's push subscriptions filter on (enabledEvents).
const (
	NotifyAgentFinished   = "agent_finished"
	NotifyAgentNeedsInput = "agent_needs_input"
	NotifyAgentError      = "agent_error"
	NotifySessionStarted  = "session_started"
	NotifySessionEnded    = "session_ended"
)

// NotifyKinds lists every notification kind.
var NotifyKinds = []string{NotifyAgentFinished, NotifyAgentNeedsInput, NotifyAgentError, NotifySessionStarted, NotifySessionEnded}

// Notification tells a user about something in a session nobody is watching.
type Notification struct {
	// ID names what caused the notification (a session's event number, its start or its end), so
	// that a notifier can deliver each one once across the nodes of a cluster.
	ID        string
	Kind      string
	UserID    string
	SessionID string
	// SessionName is the session's name, empty when it has none.
	SessionName string
	Title       string
	Body        string
	// URL is the session's page in the web app.
	URL string
}

// Notifier delivers notifications (server/push sends them as Web Push). Notify must not block:
// it is called on the event pipeline.
type Notifier interface {
	Notify(ctx context.Context, n Notification)
}

// textLimit is how many characters of a question or error message a notification shows.
const textLimit = 120

// maybeNotify decides whether an event deserves a notification. It looks at the event type
// first, so the common events (token deltas) cost nothing; only for the few kinds that notify
// does it count viewers and load the session.
func (c *Core) maybeNotify(sessionID string, seq int64, typ string, raw []byte) {
	if c.notifier == nil {
		return
	}
	var kind, detail string
	switch typ {
	case protocol.AgentEventAgentEnd:
		kind = NotifyAgentFinished
	case protocol.AgentEventToolExecutionStart:
		var ev protocol.ToolExecutionStartEvent
		if ev.UnmarshalJSON(raw) != nil || ev.ToolName != "AskUserQuestion" {
			return
		}
		kind, detail = NotifyAgentNeedsInput, jsonString(member(ev.Args, "question"))
	case protocol.AgentEventCLIError:
		var ev protocol.CliErrorEvent
		if ev.UnmarshalJSON(raw) != nil {
			return
		}
		kind, detail = NotifyAgentError, ev.Message
	default:
		return
	}
	go func() {
		ctx, cancel := background()
		defer cancel()
		if c.watched(ctx, sessionID) {
			return
		}
		s, err := c.live.Session(ctx, sessionID)
		if err != nil {
			return
		}
		// The start time tells this run of the session from an earlier one with the same id.
		id := s.ID + ":" + strconv.FormatInt(s.StartedAt.UnixMilli(), 10) + ":" + strconv.FormatInt(seq, 10)
		c.notifier.Notify(ctx, c.notification(id, kind, s, detail))
	}()
}

// notifySession tells the owner of a session nobody watches that it started or ended. The
// caller is the one node that created or removed the session.
func (c *Core) notifySession(ctx context.Context, kind string, s *live.Session) {
	if c.notifier == nil || c.watched(ctx, s.ID) {
		return
	}
	id := s.ID + ":" + strconv.FormatInt(s.StartedAt.UnixMilli(), 10) + ":" + kind
	c.notifier.Notify(ctx, c.notification(id, kind, s, ""))
}

// watched reports whether the session has a viewer anywhere in the cluster; when the count
// fails, it is taken as watched (no notification rather than a wrong one).
func (c *Core) watched(ctx context.Context, sessionID string) bool {
	n, err := c.bus.Count(ctx, bus.SessionViewers+sessionID)
	return err != nil || n > 0
}

// notification words a notification of kind about session s the way PizzaPi does; detail is the
// question or error message, when there is one.
func (c *Core) notification(id, kind string, s *live.Session, detail string) Notification {
	n := Notification{ID: id, Kind: kind, UserID: s.UserID, SessionID: s.ID, URL: c.shareURL(s.ID)}
	label := s.ID
	if s.SessionName != nil && *s.SessionName != "" {
		n.SessionName = *s.SessionName
		label = n.SessionName
	} else if utf8.RuneCountInString(label) > 8 {
		label = string([]rune(label)[:8])
	}
	quoted := `"` + label + `"`
	detail = truncate(detail, textLimit)
	switch kind {
	case NotifyAgentFinished:
		n.Title, n.Body = "Agent finished", "Your agent in "+quoted+" has finished its task."
	case NotifyAgentNeedsInput:
		n.Title, n.Body = "Input needed", "Agent in "+quoted+" is waiting for your input."
		if detail != "" {
			n.Body = "Agent in " + quoted + " asks: " + detail
		}
	case NotifyAgentError:
		n.Title, n.Body = "Agent error", "An error occurred in session "+quoted+"."
		if detail != "" {
			n.Body = "Error in " + quoted + ": " + detail
		}
	case NotifySessionStarted:
		n.Title, n.Body = "Session started", "Session "+quoted+" started in "+s.Cwd+"."
	case NotifySessionEnded:
		n.Title, n.Body = "Session ended", "Session "+quoted+" has ended."
	}
	return n
}

// jsonString returns the string a JSON value holds, or "" when it is not a string.
func jsonString(raw []byte) string {
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v
}

// truncate shortens s to at most n characters (PizzaPi cuts without an ellipsis).
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
