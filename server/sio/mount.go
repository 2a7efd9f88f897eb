package sio

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/pizzapi/pizzapi/internal/sioparser"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/accounts"
	"github.com/pizzapi/pizzapi/server/bus"
	"github.com/pizzapi/pizzapi/server/core"
	"github.com/pizzapi/pizzapi/server/wstransport"
)

// Accounts identifies the user of a connecting socket.
type Accounts interface {
	// ByAPIKey returns the owner of an API key.
	ByAPIKey(ctx context.Context, key string) (accounts.Account, error)
	// BySession returns the user of the browser session cookie of a request.
	BySession(ctx context.Context, r *http.Request) (accounts.Account, error)
}

// Options configures the mounted namespaces.
type Options struct {
	// Accounts authenticates connecting sockets.
	Accounts Accounts
	// MessageBytes returns the largest message the connection of an authenticated socket of a
	// namespace may send (Limits); until then the connection is held to the unauthenticated
	// limit.
	MessageBytes func(nsp string) int64
	// MaxMessageBytes is the largest event payload accepted; larger ones get an error event.
	MaxMessageBytes int
	// MaxPendingBytes is how far a client may fall behind (bytes not yet sent, single messages
	// over wstransport.LargeFrame aside) before it is dropped.
	MaxPendingBytes int64
	// Limits bounds the size of incoming messages by authentication.
	Limits  *wstransport.Limits
	Logger  *slog.Logger
	Metrics Metrics
}

// Mounter mounts the namespaces' generated glue on the zishang520 Socket.IO server: it implements
// protocol.Mounter[core.Client]. A connecting socket is authenticated by the credential of its
// handshake auth, or by the browser session cookie where the namespace allows one; then its
// events go to the namespace's Socket one at a time, in arrival order, and their errors and
// acknowledgements back to the client.
type Mounter struct {
	io   *socket.Server
	opts Options
}

// NewMounter returns a Mounter of namespaces on io.
func NewMounter(io *socket.Server, opts Options) *Mounter {
	return &Mounter{io: io, opts: opts}
}

// connectError is the connect_error a refused handshake gets: its message (PizzaPi's clients
// read "unauthorized") and, as data, the protocol.ErrorMessage with the code (and the JSON
// pointer of a mismatch). Credential failures are always reported as "unauthorized", whatever
// the cause.
func connectError(err error) *socket.ExtendedError {
	e := protocol.ErrorMessage{Code: protocol.ErrorCodeUnauthorized, Message: "unauthorized"}
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Code != protocol.ErrorCodeUnauthorized && pe.Code != protocol.ErrorCodeInternal {
		e.Code, e.Message = pe.Code, pe.Error()
		var ve *protocol.ValidationError
		if errors.As(err, &ve) {
			e.Pointer = protocol.Some(ve.Pointer)
		}
	}
	return socket.NewExtendedError(e.Message, json.RawMessage(e.AppendJSON(nil)))
}

// MountNamespace implements protocol.Mounter.
func (m *Mounter) MountNamespace(ns protocol.Namespace[core.Client]) {
	log := m.opts.Logger.With("namespace", ns.Path)
	limit := m.opts.MessageBytes(ns.Path)
	nsp := m.io.Of(ns.Path, nil)
	nsp.Use(func(s *socket.Socket, next func(*socket.ExtendedError)) {
		trimRequest(s)
		hs := handshakeOf(s)
		u, err := m.authenticate(ns, hs)
		if err != nil {
			log.Debug("connection refused", "address", hs.address, "reason", err)
			next(connectError(err))
			return
		}
		s.SetData(socketData{UserID: u.ID, UserName: u.Name})
		m.opts.Limits.Raise(s.Conn(), limit)
		next(nil)
	})
	_ = nsp.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		// Again for a socket recovered after a disconnection, which skips the middleware.
		m.opts.Limits.Raise(s.Conn(), limit)
		trimRequest(s)
		serve(s, ns, dataOf(s).user(), &m.opts, log)
	})
}

// authenticate identifies the user of a connecting socket by the credential of its handshake
// auth, or by its session cookie when it has none and the namespace allows it.
func (m *Mounter) authenticate(ns protocol.Namespace[core.Client], hs handshake) (core.User, error) {
	key, err := ns.Credential(hs.auth)
	if err != nil {
		return core.User{}, err
	}
	var acc accounts.Account
	switch {
	case key != "":
		acc, err = m.opts.Accounts.ByAPIKey(context.Background(), key)
	case ns.CredentialRequired:
		return core.User{}, protocol.ErrUnauthorized
	default:
		acc, err = m.opts.Accounts.BySession(context.Background(), hs.request)
	}
	if err != nil {
		return core.User{}, err
	}
	return core.User{ID: acc.ID, Name: acc.Name}, nil
}

// socketData is what the relay keeps on an authenticated socket (the library's socket data), to
// find its user again when the socket connects. After a Connection State Recovery the library
// hands it back as a map (decoded from Redis), so it is read through JSON; the msgpack names are
// the ones it is stored under.
type socketData struct {
	UserID   string `json:"userId" msgpack:"userId"`
	UserName string `json:"userName" msgpack:"userName"`
}

func (d socketData) user() core.User { return core.User{ID: d.UserID, Name: d.UserName} }

// dataOf reads back the socketData of s.
func dataOf(s *socket.Socket) socketData {
	var d socketData
	if raw, err := json.Marshal(s.Data()); err == nil {
		_ = json.Unmarshal(raw, &d)
	}
	return d
}

// handshake is what a client sent when it connected to a namespace.
type handshake struct {
	auth    []byte // the handshake auth object as JSON, without the parser's routing field
	query   url.Values
	request *http.Request // the Engine.IO handshake request (cookies, headers)
	address string
}

func handshakeOf(s *socket.Socket) handshake {
	hs := s.Handshake()
	auth := make(map[string]any, len(hs.Auth))
	for k, v := range hs.Auth {
		if k != sioparser.AuthKey {
			auth[k] = v
		}
	}
	raw, err := json.Marshal(auth)
	if err != nil {
		raw = []byte("null") // not an object: the namespace refuses it as invalid
	}
	h := handshake{auth: raw, address: hs.Address}
	if hs.Query != nil {
		h.query = hs.Query.Query()
	}
	if r := s.Request(); r != nil {
		h.request = r.Request()
	}
	if h.request == nil {
		h.request = &http.Request{Header: http.Header{}}
	}
	return h
}

// heldBackLogged is the shortest wait of a client's reader for room in its inbox that is logged.
const heldBackLogged = 100 * time.Millisecond

// served is one connected socket of a namespace: its inbox and everything its event handlers
// and its disconnect need, in one allocation. An idle viewer keeps it for the connection's
// life; as separate closures (over a copy of Options each) it cost about a kilobyte more.
type served struct {
	in      inbox
	ctx     context.Context // the socket's context, published with the inbox's pressure
	cancel  context.CancelFunc
	p       *Peer
	h       protocol.Socket
	s       *socket.Socket
	conn    uint64 // the connection, for the parser (sioparser.ConnOf)
	nsp     string
	user    string
	opts    *Options
	log     *slog.Logger
	untrack func()
	// lastHeld is when the last "client held back" was logged (Unix ns).
	lastHeld atomic.Int64
	once     sync.Once
}

// serve runs one connected socket: it connects it to the namespace, then feeds its Socket the
// client's events and finally the disconnect, one at a time and strictly in arrival order.
func serve(s *socket.Socket, ns protocol.Namespace[core.Client], u core.User, opts *Options, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	p := newPeer(s, ns.Path, opts.MaxPendingBytes, opts.Logger, opts.Metrics)
	hs := handshakeOf(s)
	conn := sioparser.ConnOf(s.Handshake().Auth)
	trimHandshake(s)
	h, err := ns.Connect(ctx, core.Client{Conn: p, User: u, Query: hs.query}, hs.auth)
	if err != nil {
		cancel()
		sendError(p, "", err, log)
		p.Close()
		return
	}
	if h == nil { // the namespace answered and closed the socket itself
		cancel()
		return
	}
	opts.Metrics.Connections(ns.Path, 1)
	sv := &served{cancel: cancel, p: p, h: h, s: s, conn: conn, nsp: ns.Path, user: u.ID, opts: opts, log: log}
	sv.untrack = opts.Metrics.TrackBacklog(ns.Path, p.Pending)
	log.Debug("connected", "socket", p.ID(), "user", u.ID)
	// The client's events are published with the inbox's pressure: the session's viewers
	// furthest behind are dropped rather than the publisher held back (bus.Pressure).
	sv.ctx = bus.WithPressure(ctx, &sv.in.pressure)
	sv.in.handle = sv.handle
	sv.in.heldBack = sv.heldBack
	sv.in.waited = opts.Metrics.InboxWait(ns.Path)
	_ = s.On("error", sv.malformed)
	_ = s.On("disconnect", sv.gone)
	if !s.Connected() || s.Conn().ReadyState() != "open" {
		sv.gone("transport close")
		p.Close()
		return
	}
	sioparser.Attach(conn, ns.Path, &sv.in)
}

// handle handles one event of the client, on the inbox's goroutine.
func (sv *served) handle(pkt *parser.Packet) {
	handleEvent(sv.ctx, sv.p, sv.h, pkt, sv.nsp, sv.opts, sv.log)
}

// heldBack logs a wait of the client's reader for room in the inbox, at most once a second:
// while the inbox stays full, every event waits.
func (sv *served) heldBack(d time.Duration) {
	if now := time.Now().UnixNano(); d >= heldBackLogged && now-sv.lastHeld.Load() >= int64(time.Second) {
		sv.lastHeld.Store(now)
		sv.log.Warn("client held back: its events arrive faster than they are handled", "socket", sv.p.ID(), "user", sv.user, "waited", d.Round(time.Millisecond))
	}
}

// malformed handles the library's "error" event: it closes the connection after a packet it
// cannot decode outside a joined namespace; say so in the log and, if it still gets there, to
// the client.
func (sv *served) malformed(args ...any) {
	err, _ := args[0].(error)
	sv.log.Warn("malformed packet; connection closed", "socket", sv.p.ID(), "user", sv.user, "address", sv.s.Handshake().Address, "error", err)
	sv.opts.Metrics.Invalid(sv.nsp, "")
	e := protocol.ErrorMessage{Code: protocol.ErrorCodeInvalid, Message: "malformed packet; the connection is closed"}
	_ = sv.p.Send("error", e.AppendJSON(nil))
}

// gone handles the socket's disconnect. The library may report it twice (a client leaving while
// the server closes it), before this listener exists (a client gone while Connect ran), or never
// (a transport that closed just before the library tracked the socket), so gone runs once, from
// the event or from serve's check: every socket counted once is uncounted once.
func (sv *served) gone(args ...any) {
	sv.once.Do(func() {
		sioparser.Detach(sv.conn, sv.nsp)
		reason, _ := args[0].(string)
		if len(args) > 1 {
			if e, ok := args[1].(error); ok && errors.Is(e, wstransport.ErrFrameTooLarge) {
				sv.log.Warn("message over the transport limit; connection closed", "socket", sv.p.ID(), "user", sv.user)
				sv.opts.Metrics.Invalid(sv.nsp, "")
			}
		}
		left := sv.in.clientLeft.Load()
		if left {
			reason = "client namespace disconnect"
		}
		// After the events that arrived before it.
		sv.in.push(func() {
			sv.opts.Metrics.Connections(sv.nsp, -1)
			sv.untrack()
			sv.log.Debug("disconnected", "socket", sv.p.ID(), "reason", reason)
			sv.h.Disconnected(reason, left)
			sv.cancel()
		})
	})
}

// handleEvent dispatches one client event and answers its acknowledgement. An event that is
// refused gets an `error` event saying why, and the same ErrorMessage as its acknowledgement when
// the client asked for one.
func handleEvent(ctx context.Context, p *Peer, h protocol.Socket, pkt *parser.Packet, nsp string, opts *Options, log *slog.Logger) {
	if pkt.Type != parser.EVENT && pkt.Type != parser.BINARY_EVENT {
		return // the relay asks clients for no acknowledgements
	}
	event, payload, err := eventOf(pkt, opts.MaxMessageBytes)
	opts.Metrics.EventIn(nsp, event)
	var reply []byte
	if err == nil {
		reply, err = h.Dispatch(ctx, event, payload)
	}
	if err != nil {
		var ee *protocol.EventError
		if errors.As(err, &ee) || errors.Is(err, protocol.ErrInvalid) || errors.Is(err, protocol.ErrTooLarge) {
			opts.Metrics.Invalid(nsp, event)
			log.Debug("event refused", "socket", p.ID(), "event", event, "error", err)
		}
		e := sendError(p, event, err, log)
		if pkt.Id != nil {
			body := e.AppendJSON(nil)
			p.sendFrame(wstransport.NewFrame(len(nsp)+len(body)+24, func(dst []byte) []byte {
				return sioparser.AppendAck(dst, nsp, *pkt.Id, body)
			}))
		}
		if me, ok := pkt.Data.(*sioparser.MalformedError); ok && me.Fatal {
			log.Warn("socket closed after a packet clients do not send", "socket", p.ID(), "reason", me.Reason)
			p.Close()
		}
		return
	}
	if pkt.Id != nil {
		p.sendFrame(wstransport.NewFrame(len(nsp)+len(reply)+24, func(dst []byte) []byte {
			return sioparser.AppendAck(dst, nsp, *pkt.Id, reply)
		}))
	}
}

// eventOf returns the name and the single JSON argument of an event packet, or why it cannot be
// handled: it could not be decoded, it carries binary attachments, or its arguments are not one
// JSON object within the size limit.
func eventOf(pkt *parser.Packet, limit int) (string, []byte, error) {
	if me, ok := pkt.Data.(*sioparser.MalformedError); ok {
		return "", nil, protocol.NewError(protocol.ErrorCodeInvalid, me.Error())
	}
	args, _ := pkt.Data.([]any)
	event := ""
	if len(args) > 0 {
		event, _ = args[0].(string)
	}
	if pkt.Type == parser.BINARY_EVENT {
		return event, nil, protocol.NewError(protocol.ErrorCodeInvalid, "binary attachments are not supported; send one JSON object")
	}
	if len(args) == 0 {
		return "", nil, protocol.NewError(protocol.ErrorCodeInvalid, "an event packet needs an event name")
	}
	payload, err := payloadOf(args[1:], limit)
	return event, payload, err
}

// payloadOf returns the single JSON argument of an event (nil when there is none).
func payloadOf(args []any, limit int) ([]byte, error) {
	switch len(args) {
	case 0:
		return nil, nil
	case 1:
		raw, ok := args[0].(json.RawMessage)
		if !ok {
			return nil, protocol.NewError(protocol.ErrorCodeInvalid, "binary arguments are not supported; send one JSON object")
		}
		if len(raw) > limit {
			return nil, protocol.Errorf(protocol.ErrorCodeTooLarge, "message too large: %d bytes, the limit is %d", len(raw), limit)
		}
		return raw, nil
	}
	return nil, protocol.Errorf(protocol.ErrorCodeInvalid, "an event takes one JSON object argument, got %d", len(args))
}

// sendError reports err to the client as an "error" event naming the event (see ErrorMessage),
// and returns the event's payload.
func sendError(p *Peer, event string, err error, log *slog.Logger) protocol.ErrorMessage {
	e := ErrorMessage(err)
	if e.Code == protocol.ErrorCodeInternal {
		log.Error("handler failed", "socket", p.ID(), "event", event, "error", err)
	}
	if event != "" {
		e.Event = protocol.Some(event)
	}
	_ = p.Send("error", e.AppendJSON(nil))
	return e
}

// ErrorMessage is what a client learns of err: a *protocol.Error keeps its code and message; a
// payload that does not match the contract is ErrorCodeInvalid with the JSON pointer of the
// problem; an event the handler does not implement is ErrorCodeUnsupported. Anything else is an
// internal failure, whose details stay in the relay's log.
func ErrorMessage(err error) protocol.ErrorMessage {
	var (
		pe *protocol.Error
		ee *protocol.EventError
	)
	switch {
	case errors.As(err, &pe):
		return protocol.ErrorMessage{Code: pe.Code, Message: pe.Error()}
	case errors.As(err, &ee):
		e := protocol.ErrorMessage{Code: protocol.ErrorCodeInvalid, Message: ee.Message}
		if ee.Pointer != "" {
			e.Pointer = protocol.Some(ee.Pointer)
			e.Message = ee.Message + " at " + ee.Pointer
		}
		return e
	case errors.Is(err, protocol.ErrUnimplemented):
		return protocol.ErrorMessage{Code: protocol.ErrorCodeUnsupported, Message: err.Error()}
	}
	return protocol.ErrorMessage{Code: protocol.ErrorCodeInternal, Message: "Internal error"}
}
