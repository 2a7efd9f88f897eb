// Package bus delivers messages to the sockets subscribed to a topic: the viewers of a session,
// the CLI of a session, a runner, a terminal's viewer, a user's hub. The in-process Local bus
// serves one node; the Redis bus carries messages between nodes.
package bus

import (
	"context"

	"github.com/pizzapi/pizzapi/internal/sioparser"
	"github.com/pizzapi/pizzapi/server/wstransport"
)

// Topics. Each topic's members are sockets of one namespace (or in-process waiters).
const (
	// SessionViewers reaches the /viewer sockets watching a session.
	SessionViewers = "viewers:"
	// SessionCLI reaches the /relay socket publishing a session.
	SessionCLI = "cli:"
	// Runner reaches a runner daemon's /runner socket.
	Runner = "runner:"
	// Terminal reaches the /terminal socket attached to a terminal.
	Terminal = "terminal:"
	// UserHub reaches the /hub sockets of a user.
	UserHub = "hub:"
	// Node reaches the relay node with this id (replies to requests it made).
	Node = "node:"
	// Spawn reaches whoever waits for a runner to report on a session it was asked to start.
	Spawn = "spawn:"
)

// Control instructions a message can carry instead of (or besides) an event.
const (
	// ControlLeave makes a member leave the topic after delivering the event (session ended).
	ControlLeave = "leave"
	// ControlClose makes a member close its connection after delivering the event.
	ControlClose = "close"
	// ControlReplace tells a member that another connection took its place.
	ControlReplace = "replace"
	// ControlDetach tells a CLI connection that its session was registered again from scratch on
	// another connection: it forgets the registration (its token no longer publishes) but stays
	// open, since closing it would make an old CLI reconnect and register once more.
	ControlDetach = "detach"
	// ControlResume tells the viewers waiting for a session that it is live again.
	ControlResume = "resume"
)

// Message is one event for the members of a topic.
type Message struct {
	// Nsp is the namespace the event is sent on.
	Nsp string
	// Event and Payload are the Socket.IO event; Event may be empty for a pure control message.
	Event   string
	Payload []byte
	// Seq is the session sequence number of a viewer event, 0 for other messages.
	Seq int64
	// Control is an instruction for the member, see the Control constants.
	Control string
	// From is the id of the connection that sent the message, so a member can ignore its own.
	From string

	frame *wstransport.Frame
}

// NewMessage builds a message and encodes its Socket.IO packet, framed for a websocket, once for
// every member.
func NewMessage(nsp, event string, payload []byte, seq int64) *Message {
	m := &Message{Nsp: nsp, Event: event, Payload: payload, Seq: seq}
	m.encode()
	return m
}

// NewMessageOf builds a message whose payload appendPayload appends to the packet as it is
// encoded: the payload is encoded once, straight into the frame, and Payload shares the frame's
// bytes (read only, as the frame is). size is a hint of the payload's length; appendPayload must
// append one JSON value.
func NewMessageOf(nsp, event string, seq int64, size int, appendPayload func(dst []byte) []byte) *Message {
	m := &Message{Nsp: nsp, Event: event, Seq: seq}
	var packet []byte
	start, end := 0, 0
	m.frame = wstransport.NewFrame(size+len(nsp)+len(event)+8, func(dst []byte) []byte {
		dst = sioparser.AppendEventStart(dst, nsp, event)
		start = len(dst)
		dst = appendPayload(dst)
		end = len(dst)
		packet = append(dst, ']')
		return packet
	})
	m.Payload = packet[start:end:end]
	return m
}

func (m *Message) encode() {
	if m.Event != "" {
		m.frame = wstransport.NewFrame(len(m.Payload)+len(m.Nsp)+len(m.Event)+8, func(dst []byte) []byte {
			return sioparser.AppendEvent(dst, m.Nsp, m.Event, m.Payload)
		})
	}
}

// Frame returns the encoded event (nil for a pure control message).
func (m *Message) Frame() *wstransport.Frame { return m.frame }

// Member receives the messages of the topics it joined. Deliver is called from the publishing
// goroutine and must not block.
type Member interface {
	Deliver(m *Message)
}

// Bus delivers messages to the members of topics, on this node and (for a cluster) on others.
// Messages published to a topic by one goroutine reach each member in publish order.
type Bus interface {
	// Join adds a member to a topic.
	Join(topic string, m Member)
	// Leave removes a member from a topic.
	Leave(topic string, m Member)
	// Publish delivers m to every member of the topic and returns how many were reached (members
	// on this node plus nodes elsewhere that have members).
	Publish(ctx context.Context, topic string, m *Message) (int, error)
	// Count returns how many members the topic has across the cluster.
	Count(ctx context.Context, topic string) (int, error)
	// Close stops the bus.
	Close() error
}

// Liveness is implemented by buses that know which relay nodes are running, so that the
// connections of a node that died can be given up.
type Liveness interface {
	// Alive reports which of the nodes are running.
	Alive(ctx context.Context, nodes []string) (map[string]bool, error)
}
