package core

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
	"github.com/pizzapi/pizzapi/server/store"
)

// disconnected is the payload of `disconnected` telling viewers why their session is over: the
// code for programs, PizzaPi's text beside it for people.
func disconnected(code viewer.DisconnectCode) *viewer.Disconnected {
	reason := "Session ended"
	switch code {
	case viewer.DisconnectCodeSessionReconnected:
		reason = "Session reconnected"
	case viewer.DisconnectCodeSessionExpired:
		reason = "Session expired"
	case viewer.DisconnectCodeReplayOnly:
		reason = "Session is no longer live (snapshot replay)."
	}
	return &viewer.Disconnected{Reason: reason, Code: protocol.Some(code)}
}

// shareURL is the browser URL of a session.
func (c *Core) shareURL(id string) string {
	return strings.TrimRight(c.opts.BaseURL, "/") + "/session/" + id
}

// expiry returns the new expiry of a session after activity now.
func (c *Core) expiry(ephemeral bool) *time.Time {
	if !ephemeral {
		return nil
	}
	t := c.now().Add(c.opts.EphemeralTTL)
	return &t
}

// ownerOf reports the owner of a session id, live or persisted, or "" when the id is unused.
func (c *Core) ownerOf(ctx context.Context, id string) (string, error) {
	if s, err := c.live.Session(ctx, id); err == nil {
		return s.UserID, nil
	} else if !errors.Is(err, live.ErrNotFound) {
		return "", err
	}
	rs, err := c.db.RelaySession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return rs.UserID, nil
}

// endSession ends a live session for everyone: viewers are told why and leave, the durable record
// is marked ended, the hub drops it. Only the caller that actually removes the session acts, so
// several nodes may race to end it.
func (c *Core) endSession(ctx context.Context, id string, why viewer.DisconnectCode) {
	s, deleted, err := c.live.DeleteSession(ctx, id)
	if err != nil {
		c.log.Error("ending session", "session", id, "error", err)
		return
	}
	if !deleted {
		return
	}
	c.timers.cancel("grace:" + id)
	c.marks.forget(id)
	_, _, _ = c.live.TakeLink(ctx, id)
	// Viewers are still counted before they are told to leave.
	c.notifySession(ctx, NotifySessionEnded, s)
	m := bus.NewMessage(viewer.Namespace, viewer.EventDisconnected, disconnected(why).AppendJSON(nil), 0)
	m.Control = bus.ControlLeave
	if _, err := c.bus.Publish(ctx, bus.SessionViewers+id, m); err != nil {
		c.log.Warn("telling viewers the session ended", "session", id, "error", err)
	}
	now := c.now()
	if err := c.db.EndRelaySession(ctx, id, now, c.expiry(s.IsEphemeral)); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.log.Error("recording the end of a session", "session", id, "error", err)
	}
	removed := hub.SessionRemoved{SessionID: id}
	c.publishHub(ctx, s.UserID, hub.EventSessionRemoved, removed.AppendJSON(nil))
	c.log.Info("session ended", "session", id, "user", s.UserID, "reason", why)
}

// publishHub sends an event to the hub sockets of a user.
func (c *Core) publishHub(ctx context.Context, userID, event string, payload []byte) {
	if _, err := c.bus.Publish(ctx, bus.UserHub+userID, bus.NewMessage(hub.Namespace, event, payload, 0)); err != nil {
		c.log.Warn("hub update", "user", userID, "event", event, "error", err)
	}
}

// viewerCount counts the viewers of a session across the cluster.
func (c *Core) viewerCount(ctx context.Context, id string) int {
	n, err := c.bus.Count(ctx, bus.SessionViewers+id)
	if err != nil {
		c.log.Warn("counting viewers", "session", id, "error", err)
	}
	return n
}

// sessionStatus tells the owner's hub about a change of a session's status; withRunner adds the
// runner fields.
func (c *Core) sessionStatus(ctx context.Context, s *live.Session, withRunner bool) {
	st := hub.SessionStatus{
		SessionID:   s.ID,
		IsActive:    s.IsActive,
		SessionName: s.SessionName,
		Model:       s.Model,
		ViewerCount: protocol.Some(int64(c.viewerCount(ctx, s.ID))),
	}
	if s.LastHeartbeatAt != nil {
		t := live.FormatTime(*s.LastHeartbeatAt)
		st.LastHeartbeatAt = &t
	}
	if withRunner {
		st.RunnerID = protocol.Some(s.RunnerID)
		st.RunnerName = protocol.Some(s.RunnerName)
	}
	c.publishHub(ctx, s.UserID, hub.EventSessionStatus, st.AppendJSON(nil))
}

// Sessions lists a user's live sessions with their real viewer counts.
func (c *Core) Sessions(ctx context.Context, userID string) ([]protocol.SessionInfo, error) {
	list, err := c.live.UserSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]protocol.SessionInfo, 0, len(list))
	for _, s := range list {
		out = append(out, s.Info(c.viewerCount(ctx, s.ID)))
	}
	return out, nil
}

// PersistedSessions lists a user's recent sessions from the durable store, ended ones included.
func (c *Core) PersistedSessions(ctx context.Context, userID string) ([]store.RelaySession, error) {
	return c.db.ListRelaySessions(ctx, userID, c.now(), 50)
}

// Session returns a live session of the user (a session of another user is reported as missing).
func (c *Core) Session(ctx context.Context, userID, id string) (*live.Session, error) {
	s, err := c.live.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.UserID != userID {
		return nil, live.ErrNotFound
	}
	return s, nil
}
