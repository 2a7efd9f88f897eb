package sioparser

import (
	"strconv"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// maxQuoted bounds how much of a refused packet a refusal quotes.
const maxQuoted = 64

// Refusal says why a server connection closes after the client sent the Socket.IO packet b
// outside any namespace it has joined: the library closes the whole connection, without a word
// to the client, for a packet it cannot decode and for one addressed to a namespace the
// connection has no socket on. The text is for the relay's log.
func Refusal(b []byte) string {
	if len(b) == 0 {
		return "an empty packet"
	}
	nsp := "/"
	switch parser.PacketType(b[0] - '0') {
	case parser.EVENT, parser.ACK:
		p, err := (&Decoder{}).decode(b)
		if err != nil {
			return "an undecodable packet (" + err.Error() + ")"
		}
		nsp = p.Nsp
	case parser.CONNECT, parser.DISCONNECT, parser.BINARY_EVENT, parser.BINARY_ACK:
		d := parser.NewDecoder()
		defer d.Destroy()
		var decoded *parser.Packet
		_ = d.On("decoded", func(a ...any) { decoded, _ = a[0].(*parser.Packet) })
		if err := d.Add(types.NewStringBuffer(b)); err != nil {
			return "an undecodable packet (" + err.Error() + ")"
		}
		if decoded == nil {
			return "a binary packet for a namespace the connection has not joined"
		}
		nsp = decoded.Nsp
	default:
		return "a packet of a type clients do not send (" + strconv.QuoteRune(rune(b[0])) + ")"
	}
	return "a packet for " + strconv.Quote(truncate(nsp)) + ", a namespace the connection has not joined"
}

// truncate shortens s to at most maxQuoted bytes for a log line.
func truncate(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	return s[:maxQuoted] + "..."
}
