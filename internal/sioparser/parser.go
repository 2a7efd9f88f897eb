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
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
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

// PacketTypeError is a packet of a type clients do not send (CONNECT_ERROR, or no Socket.IO
// type at all), received by a server's decoder; the library closes the connection.
type PacketTypeError struct {
	// Type is the packet's first character.
	Type byte
}

// Error names the type.
func (e *PacketTypeError) Error() string {
	return "sioparser: clients do not send packets of type " + strconv.QuoteRune(rune(e.Type))
}

// MalformedError is an EVENT packet that cannot be decoded, on a namespace the connection has
// joined. With Options.Route the decoder hands it to the namespace's Sink as the packet's Data
// (with the ack id, when one could be read) instead of failing the connection, so that the server
// can tell the client what was wrong.
type MalformedError struct {
	// Reason says what is wrong with the packet, for people.
	Reason string
	// Fatal is set for a packet of a type clients do not send: the server should close the
	// socket after saying why.
	Fatal bool
}

// Error describes the problem.
func (e *MalformedError) Error() string { return "malformed packet: " + e.Reason }

// Options configures the parser.
type Options struct {
	// StringsAsGo delivers JSON string arguments as Go strings rather than json.RawMessage. The Go
	// client needs it: it only records a Connection State Recovery offset that arrives as a
	// string.
	StringsAsGo bool
	// Route makes a server's decoder give client events to the Sink of their namespace instead of
	// the library (see Attach).
	Route bool
}

type rawParser struct{ opts Options }

// New returns a parser for ServerOptions.SetParser (server) or Options.SetParser (Go client).
func New(opts Options) parser.Parser { return &rawParser{opts: opts} }

func (p *rawParser) NewEncoder() parser.Encoder { return &Encoder{fallback: parser.NewEncoder()} }

func (p *rawParser) NewDecoder() parser.Decoder {
	d := &Decoder{EventEmitter: types.NewEventEmitter(), fallback: parser.NewDecoder(), opts: p.opts, id: nextID.Add(1)}
	decoders.Store(d.id, d)
	_ = d.fallback.On("decoded", func(a ...any) {
		d.binary.Store(false)
		if pkt, ok := a[0].(*parser.Packet); ok {
			d.forward(pkt)
			return
		}
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
	dst = AppendEventStart(dst, nsp, event)
	dst = wire.AppendRaw(dst, payload)
	return append(dst, ']')
}

// AppendEventStart appends the start of the packet AppendEvent appends, up to its argument: the
// caller appends the one JSON argument and then the closing ']'.
func AppendEventStart(dst []byte, nsp, event string) []byte {
	dst = append(dst, '0'+byte(parser.EVENT))
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	dst = append(dst, '[')
	dst = wire.AppendString(dst, event)
	return append(dst, ',')
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
	// lastName is the name of the last event decoded, as the packet's first argument: a
	// connection mostly sends the same event, whose name is then neither copied nor boxed again.
	lastName atomic.Pointer[eventName]

	// Routing state (Options.Route): the namespaces of this connection.
	id         uint64
	mu         sync.Mutex
	namespaces map[string]*namespaceState
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
			var me *MalformedError
			if errors.As(err, &me) && p.Type == parser.EVENT && d.joined(p.Nsp) {
				p.Data = me
				d.forward(p)
				return nil
			}
			return err
		}
		d.forward(p)
		return nil
	case parser.BINARY_EVENT, parser.BINARY_ACK:
		d.binary.Store(true)
		return d.fallback.Add(types.NewStringBuffer(b))
	case parser.CONNECT, parser.DISCONNECT:
		return d.fallback.Add(types.NewStringBuffer(b))
	default:
		if d.opts.Route { // a server's decoder: CONNECT_ERROR and unknown types are wrong
			return d.wrongType(b)
		}
		return d.fallback.Add(types.NewStringBuffer(b))
	}
}

// wrongType handles a packet of a type clients do not send: on a namespace the connection has
// joined it goes to the Sink as a fatal *MalformedError, so that the server can say why before it
// closes the socket; otherwise it is a *PacketTypeError, and the library closes the connection.
func (d *Decoder) wrongType(b []byte) error {
	nsp := "/"
	if start := bytes.IndexByte(b[:min(len(b), 2)], '/'); start >= 0 { // typed, or no type at all
		if end := bytes.IndexByte(b, ','); end > start && end-start <= parser.DefaultMaxNamespaceLength {
			nsp = string(b[start:end])
		}
	}
	if !d.joined(nsp) {
		return &PacketTypeError{Type: b[0]}
	}
	reason := "clients do not send packets of type " + strconv.QuoteRune(rune(b[0]))
	d.forward(&parser.Packet{Type: parser.EVENT, Nsp: nsp, Data: &MalformedError{Reason: reason, Fatal: true}})
	return nil
}

// joined reports whether the connection has sent a CONNECT for nsp (with Options.Route).
func (d *Decoder) joined(nsp string) bool {
	if !d.opts.Route {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.namespaces[nsp] != nil
}

// Destroy releases the decoder.
func (d *Decoder) Destroy() {
	d.binary.Store(false)
	decoders.Delete(d.id)
	d.mu.Lock()
	d.namespaces = nil
	d.mu.Unlock()
	d.fallback.Destroy()
}

// decode parses an EVENT or ACK packet: type, optional namespace, optional ack id, and a JSON
// array whose elements become json.RawMessage sub-slices of b (the event name a string). Problems
// after the namespace are a *MalformedError, returned with the packet as far as it was read.
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
		id, err := strconv.ParseUint(string(b[start:i]), 10, 64)
		if i-start > parser.DefaultMaxPacketIDLength || err != nil {
			return p, &MalformedError{Reason: "the ack id has " + strconv.Itoa(i-start) + " digits, at most " + strconv.Itoa(parser.DefaultMaxPacketIDLength) + " are allowed"}
		}
		p.Id = &id
	}
	var dec wire.Decoder
	dec.Reset(b[i:], true)
	args := make([]any, 0, 3)
	if dec.ArrayStart() {
		for k := 0; dec.NextElem(k); k++ {
			if k == 0 && p.Type == parser.EVENT {
				if k := dec.Peek(); k != wire.KindString {
					return p, &MalformedError{Reason: "the event name must be a string, got " + k.String()}
				}
				name := dec.String()
				if parser.ReservedEvents.Has(name) {
					return p, &MalformedError{Reason: strconv.Quote(name) + " is reserved by Socket.IO"}
				}
				args = append(args, d.eventName(name))
			} else if d.opts.StringsAsGo && dec.Peek() == wire.KindString {
				args = append(args, dec.String())
			} else {
				args = append(args, json.RawMessage(dec.Raw()))
			}
			dec.Pop()
		}
	}
	dec.End()
	if err := dec.Err(); err != nil {
		return p, &MalformedError{Reason: err.Error()}
	}
	if p.Type == parser.EVENT && len(args) == 0 {
		return p, &MalformedError{Reason: "an event packet needs an event name"}
	}
	p.Data = args
	return p, nil
}

// eventName is an event name and the same as an argument of a packet.
type eventName struct {
	name string
	arg  any
}

// eventName returns name, which may share the decoded frame's bytes, as a packet argument of
// its own: the last name decoded again, or a copy that becomes the last name.
func (d *Decoder) eventName(name string) any {
	if last := d.lastName.Load(); last != nil && last.name == name {
		return last.arg
	}
	own := string([]byte(name))
	d.lastName.Store(&eventName{name: own, arg: own})
	return own
}

// Routing of incoming events (servers only, with Options.Route).
//
// The zishang520 server sends a namespace's CONNECT packet before it registers the new socket
// with the connection, and closes the whole connection when a packet arrives for a namespace it
// has no socket for; it also drops the events still waiting in a socket's queue when the
// transport closes, and reports a client's own disconnect as "transport close" when the
// connection goes down right after it. The relay therefore takes client events out of the
// library's hands: the decoder gives each namespace's EVENT and ACK packets to a Sink the server
// attaches when its connection handler runs (holding them from the CONNECT until then), in the
// order they arrived, and tells the Sink when the client disconnects from the namespace. Each
// CONNECT's auth is tagged with the decoder's id so that the handler can find its decoder.

// AuthKey is the handshake auth field the decoder adds to CONNECT packets.
const AuthKey = "\x00decoder"

// maxWaiting bounds the packets held for a namespace that is never attached.
const maxWaiting = 1024

// Sink receives the events a client sends on one namespace. Its methods are called on the
// connection's reader goroutine, in order, and must not block.
type Sink interface {
	// Packet is an EVENT or ACK packet (arguments as json.RawMessage), a BINARY_EVENT packet (as
	// the library decodes it), or an EVENT packet whose Data is a *MalformedError.
	Packet(p *parser.Packet)
	// ClientDisconnect says the client left the namespace on purpose (a DISCONNECT packet).
	ClientDisconnect()
}

var (
	nextID   atomic.Uint64
	decoders sync.Map // id -> *Decoder
)

// namespaceState is what the decoder knows of one namespace of its connection.
type namespaceState struct {
	sink Sink
	held []*parser.Packet // packets that arrived before the sink was attached
}

// forward hands a decoded packet to its namespace's sink, holds it until the sink is attached,
// or passes it to the library.
func (d *Decoder) forward(p *parser.Packet) {
	if !d.opts.Route {
		d.Emit("decoded", p)
		return
	}
	d.mu.Lock()
	ns := d.namespaces[p.Nsp]
	switch {
	case p.Type == parser.CONNECT && ns != nil:
		// A second CONNECT for a namespace this connection is already joining or joined: the
		// library would create a second socket for it. Clients do not do this on purpose.
		d.mu.Unlock()
		return
	case p.Type == parser.CONNECT:
		auth, _ := p.Data.(map[string]any)
		if auth == nil {
			auth = map[string]any{}
		}
		auth[AuthKey] = d.id
		p.Data = auth
		if d.namespaces == nil {
			d.namespaces = map[string]*namespaceState{}
		}
		d.namespaces[p.Nsp] = &namespaceState{}
	case p.Type == parser.DISCONNECT && ns != nil:
		delete(d.namespaces, p.Nsp)
		if ns.sink != nil {
			ns.sink.ClientDisconnect()
		}
	case (p.Type == parser.EVENT || p.Type == parser.BINARY_EVENT || p.Type == parser.ACK) && ns != nil:
		if ns.sink != nil {
			ns.sink.Packet(p)
		} else if len(ns.held) < maxWaiting {
			ns.held = append(ns.held, p)
		}
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	d.Emit("decoded", p)
}

// ConnOf returns the connection whose decoder passed on a CONNECT packet with handshake auth
// auth (0 when it did not come through a Decoder), for Attach and Detach.
func ConnOf(auth map[string]any) uint64 {
	id, _ := auth[AuthKey].(uint64)
	return id
}

// Attach gives the events of namespace nsp, on connection conn (see ConnOf), to sink: first
// those that arrived while the socket was being set up, then the rest as they come. It reports
// false when the connection is gone.
func Attach(conn uint64, nsp string, sink Sink) bool {
	v, ok := decoders.Load(conn)
	if !ok {
		return false
	}
	d := v.(*Decoder)
	d.mu.Lock()
	defer d.mu.Unlock()
	ns := d.namespaces[nsp]
	if ns == nil {
		return false
	}
	for _, p := range ns.held {
		sink.Packet(p)
	}
	ns.held, ns.sink = nil, sink
	return true
}

// Detach stops routing namespace nsp's events of connection conn (see ConnOf) to its sink.
func Detach(conn uint64, nsp string) {
	if v, ok := decoders.Load(conn); ok {
		d := v.(*Decoder)
		d.mu.Lock()
		delete(d.namespaces, nsp)
		d.mu.Unlock()
	}
}

// AppendAck appends the Socket.IO text packet acknowledging event id on a namespace with one raw
// JSON argument (none when payload is nil).
func AppendAck(dst []byte, nsp string, id uint64, payload []byte) []byte {
	dst = append(dst, '0'+byte(parser.ACK))
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, '[')
	if payload != nil {
		dst = wire.AppendRaw(dst, payload)
	}
	return append(dst, ']')
}
