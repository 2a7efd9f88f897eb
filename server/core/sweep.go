package core

import (
	"context"
	"time"

	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/live"
)

// Sweep ends the sessions that are over: ephemeral sessions past their expiry (their CLI is told
// and disconnected) and sessions whose CLI did not come back within the reconnect grace period
// (normally ended by a timer; the sweep covers a node that died). Every node may sweep at the same
// time: ending a session is done by whichever node removes it first.
func (c *Core) Sweep(ctx context.Context) (int, error) {
	sessions, err := c.live.Sessions(ctx)
	if err != nil {
		return 0, err
	}
	now := c.now()
	c.releaseDeadNodes(ctx, sessions, now)
	ended := 0
	for _, s := range sessions {
		switch {
		case s.IsEphemeral && s.ExpiresAt != nil && !s.ExpiresAt.After(now):
			exp := relay.SessionExpired{SessionID: s.ID}
			m := bus.NewMessage(relay.Namespace, relay.EventSessionExpired, exp.AppendJSON(nil), 0)
			m.Control = bus.ControlClose
			_, _ = c.bus.Publish(ctx, bus.SessionCLI+s.ID, m)
			c.endSession(ctx, s.ID, viewer.DisconnectCodeSessionExpired)
			ended++
		case s.Conn == "" && s.DisconnectedAt != nil && !s.DisconnectedAt.Add(c.opts.ReconnectGrace).After(now):
			c.endSession(ctx, s.ID, viewer.DisconnectCodeSessionEnded)
			ended++
		}
	}
	return ended, nil
}

// releaseDeadNodes marks the sessions held by nodes that stopped running as disconnected, so that
// their CLI can resume them elsewhere within the grace period and the sweep ends them after it.
func (c *Core) releaseDeadNodes(ctx context.Context, sessions []*live.Session, now time.Time) {
	lv, ok := c.bus.(bus.Liveness)
	if !ok {
		return
	}
	var nodes []string
	seen := map[string]bool{}
	for _, s := range sessions {
		if n := nodeOf(s.Conn); s.Conn != "" && !seen[n] {
			seen[n] = true
			nodes = append(nodes, n)
		}
	}
	alive, err := lv.Alive(ctx, nodes)
	if err != nil {
		c.log.Debug("checking relay nodes", "error", err)
		return
	}
	for _, s := range sessions {
		if s.Conn == "" || alive[nodeOf(s.Conn)] {
			continue
		}
		conn := s.Conn
		updated, err := c.live.UpdateSession(ctx, s.ID, func(s *live.Session) error {
			if s.Conn != conn {
				return errStale
			}
			s.Conn, s.DisconnectedAt, s.IsActive = "", &now, false
			return nil
		})
		if err == nil {
			*s = *updated
			c.log.Info("session's relay node is gone; waiting for its CLI to resume", "session", s.ID, "node", nodeOf(conn))
		}
	}
}
