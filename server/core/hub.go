package core

import (
	"context"

	"github.com/pizzapi/pizzapi/protocol/hub"
	"github.com/pizzapi/pizzapi/server/bus"
)

// hubSocket is a /hub socket: the live list of its user's sessions. Clients send nothing on it.
type hubSocket struct {
	hub.UnimplementedServerHandler
	c    *Core
	conn Conn
	user User
}

// ConnectHub subscribes a /hub socket to its user's session updates and sends the current list.
// Updates that happen while the list is being built are held and sent after it.
func (c *Core) ConnectHub(ctx context.Context, conn Conn, u User) (*hubSocket, error) {
	conn.Pause()
	c.bus.Join(bus.UserHub+u.ID, conn)
	list, err := c.Sessions(ctx, u.ID)
	if err != nil {
		c.bus.Leave(bus.UserHub+u.ID, conn)
		return nil, err
	}
	msg := hub.Sessions{Sessions: list}
	if err := conn.Greet(hub.EventSessions, msg.AppendJSON(nil)); err != nil {
		return nil, err
	}
	conn.Resume(0)
	return &hubSocket{c: c, conn: conn, user: u}, nil
}

// Disconnected implements hub.ServerSocket.
func (h *hubSocket) Disconnected(string, bool) {
	h.c.bus.Leave(bus.UserHub+h.user.ID, h.conn)
}
