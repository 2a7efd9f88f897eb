package core

import (
	"context"

	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/server/bus"
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
	ended := 0
	for _, s := range sessions {
		switch {
		case s.IsEphemeral && s.ExpiresAt != nil && !s.ExpiresAt.After(now):
			exp := relay.SessionExpired{SessionID: s.ID}
			m := bus.NewMessage(relay.Namespace, relay.EventSessionExpired, exp.AppendJSON(nil), 0)
			m.Control = bus.ControlClose
			_, _ = c.bus.Publish(ctx, bus.SessionCLI+s.ID, m)
			c.endSession(ctx, s.ID, reasonExpired)
			ended++
		case s.Conn == "" && s.DisconnectedAt != nil && !s.DisconnectedAt.Add(c.opts.ReconnectGrace).After(now):
			c.endSession(ctx, s.ID, reasonEnded)
			ended++
		}
	}
	return ended, nil
}
