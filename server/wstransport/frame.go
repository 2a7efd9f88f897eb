package wstransport

import (
	"encoding/binary"
	"unsafe"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// Websocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// maxHeader is the longest header of a server frame: 2 bytes and a 64-bit length, no mask.
const maxHeader = 10

// Frame is one Engine.IO message framed once as an unmasked websocket text frame: the header is
// the same for every receiver, so a broadcast is framed once, and every websocket it goes to
// queues a reference to the same bytes and writes them as they are. Connections on another
// transport (polling) read the Socket.IO packet instead, see Packet. A Frame is immutable and safe
// to share between goroutines.
type Frame struct {
	// BufferInterface is nil: Frame travels as packet.Options.WsPreEncodedFrame only to be
	// recognised by this package's transport, which reads wire; no other transport is enabled.
	types.BufferInterface

	wire   []byte // websocket header, the Engine.IO message type '4', the Socket.IO packet
	packet string // the Socket.IO packet: the end of wire, shared (wire is never modified)
	opts   packet.Options
}

// NewFrame frames the Socket.IO packet that build appends to the slice it is given. size is a
// hint of the packet's length.
func NewFrame(size int, build func(dst []byte) []byte) *Frame {
	buf := make([]byte, maxHeader+1, maxHeader+1+size)
	buf = build(buf)
	n := len(buf) - maxHeader
	buf[maxHeader] = '4' // the Engine.IO message type
	h := headerLen(n)
	putHeader(buf[maxHeader-h:maxHeader], opText, n)
	f := &Frame{wire: buf[maxHeader-h:]}
	if n > 1 {
		// The packet shares the frame's bytes, which are never written again: no copy.
		f.packet = unsafe.String(&buf[maxHeader+1], n-1)
	}
	f.opts.WsPreEncodedFrame = f
	return f
}

// Packet returns the Socket.IO packet the frame carries.
func (f *Frame) Packet() string { return f.packet }

// Options returns the Engine.IO write options that carry the frame to the transport.
func (f *Frame) Options() *packet.Options { return &f.opts }

// Len returns the frame's length on the wire.
func (f *Frame) Len() int { return len(f.wire) }

// headerLen is the length of an unmasked frame header for a payload of n bytes.
func headerLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xffff:
		return 4
	default:
		return 10
	}
}

// putHeader writes the header of a final, unmasked frame into dst, which is headerLen(n) long.
func putHeader(dst []byte, op byte, n int) {
	dst[0] = 0x80 | op
	switch len(dst) {
	case 2:
		dst[1] = byte(n)
	case 4:
		dst[1] = 126
		binary.BigEndian.PutUint16(dst[2:], uint16(n))
	default:
		dst[1] = 127
		binary.BigEndian.PutUint64(dst[2:], uint64(n))
	}
}

// appendFrame appends a final, unmasked frame carrying payload.
func appendFrame(dst []byte, op byte, payload []byte) []byte {
	var h [maxHeader]byte
	n := headerLen(len(payload))
	putHeader(h[:n], op, len(payload))
	return append(append(dst, h[:n]...), payload...)
}
