package sio

import (
	"log/slog"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/pizzapi/pizzapi/internal/sioparser"
)

// LogRefusedPackets logs, at warn level with the client's address and the reason, each
// connection of eng that the library closes because of a packet the client sent outside its
// namespaces (an Engine.IO packet it cannot parse, a Socket.IO packet it cannot decode, or one
// for a namespace the connection has not joined). The library closes such a connection without
// telling anyone; inside a joined namespace the relay answers bad packets itself (see Mounter).
// Metrics count them as invalid events of the namespace "".
func LogRefusedPackets(eng engine.BaseServer, log *slog.Logger, m Metrics) {
	_ = eng.On("connection", func(args ...any) {
		conn, ok := args[0].(engine.Socket)
		if !ok {
			return
		}
		// This listener runs after the library's, which it registered first: when the library
		// has closed the connection because of the packet, the state is no longer "open".
		_ = conn.On("data", func(args ...any) {
			if len(args) == 0 || conn.ReadyState() == "open" {
				return
			}
			b, ok := packetBytes(args[0])
			if !ok {
				return
			}
			m.Invalid("", "")
			log.Warn("connection closed after a packet outside its namespaces",
				"address", conn.RemoteAddress(), "reason", sioparser.Refusal(b))
		})
		_ = conn.On("close", func(args ...any) {
			if len(args) > 0 && args[0] == "parse error" {
				m.Invalid("", "")
				log.Warn("connection closed after a packet outside its namespaces",
					"address", conn.RemoteAddress(), "reason", "an invalid Engine.IO packet")
			}
		})
	})
}

// packetBytes returns the text of an Engine.IO message (binary attachments are not packets).
func packetBytes(data any) ([]byte, bool) {
	switch t := data.(type) {
	case *types.StringBuffer:
		return t.Bytes(), true
	case string:
		return []byte(t), true
	}
	return nil, false
}
