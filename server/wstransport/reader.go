package wstransport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/parsers/engine/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// upgradePacket is the Engine.IO upgrade packet, which a client sends on the websocket once
// its probe was answered, to make the websocket the session's transport.
const upgradePacket = '5'

// errProtocol marks a frame that breaks RFC 6455; the connection closes with status 1002.
var errProtocol = errors.New("websocket protocol error")

// header is a received frame's header.
type header struct {
	fin  bool
	op   byte
	n    int64
	mask [4]byte
}

// read is the reader. It holds no buffer between messages: it reads each frame's header into a
// small array and its payload into a buffer of the message's size, checked against the
// connection's limit before anything is allocated.
//
// Each message is handed to the engine on the goroutine that read it, and reading goes on in a
// new goroutine: the engine's and the relay's handlers (a namespace's connect, authentication)
// grow the goroutine's stack to 8 KiB or more, which the runtime never shrinks back to its
// smallest size, while a goroutine that only waits for the next frame fits in the smallest
// stack (2 KiB). An idle connection so costs one small stack.
func (t *transport) read() {
	if t.readMessage() {
		go t.readNext()
		return
	}
	t.closeAfterWrites()
}

// readMessage reads frames until a message is complete and hands it to the engine; it reports
// false when the connection is done.
func (t *transport) readMessage() bool {
	var (
		msg      []byte
		msgOp    byte
		reserved int64
	)
	defer func() { t.opts.Limits.release(reserved) }()
	for {
		if t.idle > 0 {
			_ = t.conn.SetReadDeadline(time.Now().Add(t.idle))
		}
		h, err := readHeader(t.conn, &t.scratch)
		if err != nil {
			t.readFailed(err)
			return false
		}
		if h.op >= opClose {
			if !t.handleControl(h) {
				return false
			}
			continue
		}
		switch {
		case h.op != opContinuation && h.op != opText && h.op != opBinary:
			t.readFailed(fmt.Errorf("%w: unknown opcode %d", errProtocol, h.op))
			return false
		case (h.op == opContinuation) != (msg != nil):
			t.readFailed(fmt.Errorf("%w: unexpected continuation state (opcode %d)", errProtocol, h.op))
			return false
		}
		if h.op != opContinuation {
			msgOp = h.op
		}
		total := int64(len(msg)) + h.n
		if limit := t.limit.Load(); total > limit {
			t.refuse(total, limit, "over the limit")
			return false
		}
		if total > t.opts.Limits.Small() {
			if err := t.opts.Limits.acquire(h.n); err != nil {
				t.refuse(total, t.limit.Load(), "the budget for large messages is spent")
				return false
			}
			reserved += h.n
		}
		start := len(msg)
		if msg == nil {
			msg = make([]byte, h.n)
		} else {
			msg = append(msg, make([]byte, h.n)...)
		}
		if _, err := io.ReadFull(t.conn, msg[start:]); err != nil {
			t.readFailed(err)
			return false
		}
		unmask(msg[start:], h.mask)
		if !h.fin {
			continue
		}
		upgrade := msgOp == opText && len(msg) == 1 && msg[0] == upgradePacket
		t.deliver(msgOp, msg)
		if upgrade {
			// The engine has made this transport the session's and flushed the packets it held
			// during the upgrade (or refused the upgrade and closed the transport): from now on
			// the session may be written to directly (see Direct).
			t.upgraded.Store(true)
		}
		return true
	}
}

// deliver hands a complete message to the engine. A text message of Engine.IO protocol 4 is
// decoded here, as the engine's parser would, into a packet whose data is the rest of msg: the
// parser copies the data into a buffer it grows as it reads, about a kilobyte for every
// packet. The message belongs to the packet from now on (the reader makes a new one for the
// next). Anything else (binary, protocol 3, a base64 or unknown type) goes to the parser.
func (t *transport) deliver(op byte, msg []byte) {
	if op == opText && t.Protocol() == 4 && len(msg) > 0 {
		if typ, ok := parser.PACKET_TYPES_REVERSE[msg[0]]; ok {
			t.OnPacket(&packet.Packet{Type: typ, Data: types.NewStringBuffer(msg[1:])})
			return
		}
	}
	if op == opText {
		t.OnData(types.NewStringBuffer(msg))
	} else {
		t.OnData(types.NewBytesBuffer(msg))
	}
}

// readHeader reads a client frame's header; client frames must be masked and use no extension.
func readHeader(r io.Reader, scratch *[14]byte) (header, error) {
	var h header
	if _, err := io.ReadFull(r, scratch[:2]); err != nil {
		return h, err
	}
	b0, b1 := scratch[0], scratch[1]
	h.fin, h.op = b0&0x80 != 0, b0&0x0f
	if b0&0x70 != 0 {
		return h, fmt.Errorf("%w: reserved bits set (no extension was negotiated)", errProtocol)
	}
	if b1&0x80 == 0 {
		return h, fmt.Errorf("%w: client frame not masked", errProtocol)
	}
	ext := 0
	switch b1 & 0x7f {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	if _, err := io.ReadFull(r, scratch[2:2+ext+4]); err != nil {
		return h, err
	}
	switch ext {
	case 0:
		h.n = int64(b1 & 0x7f)
	case 2:
		h.n = int64(binary.BigEndian.Uint16(scratch[2:]))
	default:
		u := binary.BigEndian.Uint64(scratch[2:])
		if u>>63 != 0 {
			return h, fmt.Errorf("%w: frame length out of range", errProtocol)
		}
		h.n = int64(u)
	}
	copy(h.mask[:], scratch[2+ext:])
	return h, nil
}

// handleControl answers a ping, ignores a pong, and answers a close frame; it reports whether
// the connection stays open.
func (t *transport) handleControl(h header) bool {
	if !h.fin || h.n > 125 {
		t.readFailed(fmt.Errorf("%w: fragmented or long control frame", errProtocol))
		return false
	}
	var payload [125]byte
	p := payload[:h.n]
	if _, err := io.ReadFull(t.conn, p); err != nil {
		t.readFailed(err)
		return false
	}
	unmask(p, h.mask)
	switch h.op {
	case opPing:
		t.control(opPong, p)
	case opPong:
	case opClose:
		reply := p
		if len(reply) > 2 {
			reply = reply[:2] // the status code, without the reason
		}
		t.control(opClose, reply)
		return false
	default:
		t.readFailed(fmt.Errorf("%w: unknown opcode %d", errProtocol, h.op))
		return false
	}
	return true
}

// refuse closes a connection whose client sent a message it may not send, with status 1009, and
// logs it with the client's address.
func (t *transport) refuse(size, limit int64, why string) {
	t.opts.Logger.Warn("websocket message refused: "+why+"; connection closed",
		"address", t.conn.RemoteAddr().String(), "size", size, "limit", limit)
	t.control(opClose, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""))
	t.OnError("message too large", fmt.Errorf("%w: %d bytes, the limit is %d", ErrFrameTooLarge, size, limit))
}

// readFailed ends the connection after a read error: a protocol error is answered with status
// 1002, and every error but the client closing the connection is reported to the engine.
func (t *transport) readFailed(err error) {
	if errors.Is(err, errProtocol) {
		t.opts.Logger.Debug("websocket protocol error", "address", t.conn.RemoteAddr().String(), "error", err)
		t.control(opClose, websocket.FormatCloseMessage(websocket.CloseProtocolError, ""))
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	t.fail("websocket read failed", err)
}

// unmask XORs a client payload with its masking key, eight bytes at a time where it can.
func unmask(b []byte, key [4]byte) {
	k := binary.LittleEndian.Uint32(key[:])
	k8 := uint64(k) | uint64(k)<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k8)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}
