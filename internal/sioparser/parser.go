// Package sioparser is a Socket.IO (protocol v5) parser for the zishang520 library that keeps
// event and ack arguments as json.RawMessage, sub-slices of the received frame, instead of
// decoding them into maps. The relay validates each payload once, with the generated decoders,
// and passes agent events on byte for byte.
//
// Plain-text EVENT and ACK packets take the fast path. CONNECT, DISCONNECT, CONNECT_ERROR and
// binary packets go to the library's own parser, so handshake auth stays a map[string]any and
// binary attachments keep working.
package sioparser

import (
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/pizzapi/pizzapi/internal/wire"
)

// Errors of the fast path; the library closes the connection on a decode error.
var (
	ErrInvalidPacket    = errors.New("sioparser: invalid packet")
	ErrIllegalNamespace = errors.New("sioparser: namespace too long")
	ErrIllegalID        = errors.New("sioparser: ack id too long")
)

// Options configures the parser.
type Options struct {
	// StringsAsGo delivers JSON string arguments as Go strings rather than json.RawMessage. The Go
	// client needs it: it only records a Connection State Recovery offset that arrives as a
	// string.
	StringsAsGo bool
}

type rawParser struct{ opts Options }

// New returns a parser for ServerOptions.SetParser (server) or Options.SetParser (Go client).
func New(opts Options) parser.Parser { return &rawParser{opts: opts} }

func (p *rawParser) NewEncoder() parser.Encoder { return &Encoder{fallback: parser.NewEncoder()} }

func (p *rawParser) NewDecoder() parser.Decoder {
	d := &Decoder{EventEmitter: types.NewEventEmitter(), fallback: parser.NewDecoder(), opts: p.opts}
	_ = d.fallback.On("decoded", func(a ...any) {
		d.binary.Store(false)
		d.Emit("decoded", a...)
	})
	return d
}

// Encoder writes EVENT and ACK packets itself, copying json.RawMessage arguments verbatim; other
// packets, and packets with binary data, go to the library's encoder. It is safe for concurrent
// use (the server shares one encoder).
type Encoder struct{ fallback parser.Encoder }

// Encode encodes one packet.
func (e *Encoder) Encode(p *parser.Packet) []types.BufferInterface {
	if p.Type == parser.EVENT || p.Type == parser.ACK {
		if data, ok := p.Data.([]any); ok && !parser.HasBinary(data) {
			if b, ok := appendPacket(nil, p.Type, p.Nsp, p.Id, data); ok {
				return []types.BufferInterface{types.NewStringBuffer(b)}
			}
		}
	}
	return e.fallback.Encode(p)
}

// AppendEvent appends the Socket.IO text packet of an event with one raw JSON argument (without
// the Engine.IO message prefix) to dst. The relay uses it to encode a broadcast once.
func AppendEvent(dst []byte, nsp, event string, payload []byte) []byte {
	dst = append(dst, '0'+byte(parser.EVENT))
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	dst = append(dst, '[')
	dst = wire.AppendString(dst, event)
	dst = append(dst, ',')
	dst = wire.AppendRaw(dst, payload)
	return append(dst, ']')
}

func appendPacket(dst []byte, typ parser.PacketType, nsp string, id *uint64, data []any) ([]byte, bool) {
	dst = append(dst, '0'+byte(typ))
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id != nil {
		dst = strconv.AppendUint(dst, *id, 10)
	}
	dst = append(dst, '[')
	for i, v := range data {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch t := v.(type) {
		case json.RawMessage:
			dst = wire.AppendRaw(dst, t)
		case string:
			dst = wire.AppendString(dst, t)
		default:
			b, err := json.Marshal(t)
			if err != nil {
				return nil, false
			}
			dst = append(dst, b...)
		}
	}
	return append(dst, ']'), true
}

// Decoder decodes packets of one connection. Add is called from the connection's reader
// goroutine; Destroy may run on another.
type Decoder struct {
	types.EventEmitter
	fallback parser.Decoder
	opts     Options
	binary   atomic.Bool // the fallback is collecting the attachments of a binary packet
}

// Add decodes one frame and emits "decoded" with the packet.
func (d *Decoder) Add(data any) error {
	var b []byte
	switch t := data.(type) {
	case *types.StringBuffer:
		b = t.Bytes()
	case string:
		b = []byte(t)
	default: // a binary attachment
		return d.fallback.Add(data)
	}
	if len(b) == 0 {
		return ErrInvalidPacket
	}
	if d.binary.Load() {
		return parser.ErrPlaintextDuringReconstruction
	}
	switch parser.PacketType(b[0] - '0') {
	case parser.EVENT, parser.ACK:
		p, err := d.decode(b)
		if err != nil {
			return err
		}
		d.Emit("decoded", p)
		return nil
	case parser.BINARY_EVENT, parser.BINARY_ACK:
		d.binary.Store(true)
		return d.fallback.Add(types.NewStringBuffer(b))
	default:
		return d.fallback.Add(types.NewStringBuffer(b))
	}
}

// Destroy releases the decoder.
func (d *Decoder) Destroy() {
	d.binary.Store(false)
	d.fallback.Destroy()
}

// decode parses an EVENT or ACK packet: type, optional namespace, optional ack id, and a JSON
// array whose elements become json.RawMessage sub-slices of b (the event name a string).
func (d *Decoder) decode(b []byte) (*parser.Packet, error) {
	p := &parser.Packet{Type: parser.PacketType(b[0] - '0'), Nsp: "/"}
	i := 1
	if i < len(b) && b[i] == '/' {
		j := i
		for j < len(b) && b[j] != ',' {
			j++
		}
		if j >= len(b) {
			return nil, ErrInvalidPacket
		}
		if j-i > parser.DefaultMaxNamespaceLength {
			return nil, ErrIllegalNamespace
		}
		p.Nsp = string(b[i:j])
		i = j + 1
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i > start {
		if i-start > parser.DefaultMaxPacketIDLength {
			return nil, ErrIllegalID
		}
		id, err := strconv.ParseUint(string(b[start:i]), 10, 64)
		if err != nil {
			return nil, ErrIllegalID
		}
		p.Id = &id
	}
	var dec wire.Decoder
	dec.Reset(b[i:], true)
	args := make([]any, 0, 3)
	if dec.ArrayStart() {
		for k := 0; dec.NextElem(k); k++ {
			if k == 0 && p.Type == parser.EVENT {
				if dec.Peek() != wire.KindString {
					return nil, ErrInvalidPacket
				}
				name := dec.String()
				if parser.ReservedEvents.Has(name) {
					return nil, ErrInvalidPacket
				}
				args = append(args, string([]byte(name)))
			} else if d.opts.StringsAsGo && dec.Peek() == wire.KindString {
				args = append(args, dec.String())
			} else {
				args = append(args, json.RawMessage(dec.Raw()))
			}
			dec.Pop()
		}
	}
	dec.End()
	if dec.Failed() || (p.Type == parser.EVENT && len(args) == 0) {
		return nil, ErrInvalidPacket
	}
	p.Data = args
	return p, nil
}
