// Package sioclient connects Go programs to a relay namespace with the zishang520 Socket.IO
// client, websocket transport only. Dialer implements protocol.Dialer, on which the Go clients
// dial through the namespaces' generated Dial functions; Client implements protocol.ClientConn.
// The relay's test support (server/servertest) uses Client directly, to send what the generated
// code would refuse to.
package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	engine "github.com/zishang520/socket.io/clients/engine/v3"
	sio "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/pizzapi/pizzapi/internal/sioparser"
	"github.com/pizzapi/pizzapi/protocol"
)

// Options configures a connection to one namespace.
type Options struct {
	// URL is the relay's base URL (http or https); ws URLs are accepted too.
	URL string
	// Namespace is the namespace path, e.g. "/relay".
	Namespace string
	// Auth is the handshake auth object as JSON (nil sends an empty one); SetAuth replaces it
	// later.
	Auth []byte
	// Header holds extra HTTP headers of the handshake (a Cookie, for example).
	Header http.Header
	// Query holds extra query parameters of the handshake request.
	Query url.Values
	// Reconnect turns on automatic reconnection with exponential backoff (and ±50 % jitter)
	// between ReconnectDelay (default DefaultReconnectDelay) and ReconnectDelayMax (default
	// DefaultReconnectDelayMax).
	Reconnect         bool
	ReconnectDelay    time.Duration
	ReconnectDelayMax time.Duration
	// ConnectTimeout bounds one connection attempt (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
}

// The defaults of Options. The first reconnection comes soon, so that a client whose relay node
// died is back on another within a second.
const (
	DefaultReconnectDelay    = 250 * time.Millisecond
	DefaultReconnectDelayMax = 10 * time.Second
	DefaultConnectTimeout    = 5 * time.Second
)

// reasonServerDisconnect is the disconnect reason of a socket the server closed on purpose;
// Socket.IO does not reconnect it by itself.
const reasonServerDisconnect = "io server disconnect"

// Handler receives what happens on the connection. The callbacks run one at a time on the
// client's event goroutine, in the order things happened; they must not block for long.
type Handler struct {
	OnConnect      func()
	OnConnectError func(err error)
	OnDisconnect   func(reason string)
	OnEvent        func(event string, payload []byte)
}

// Client is a connection to one namespace.
type Client struct {
	s  *sio.Socket
	mu sync.Mutex // emits with flags (Timeout) are not safe concurrently in the library

	// nextAuth is the handshake auth SetAuth left for the next connection (nil: unchanged). The
	// library's auth map is written only on the goroutine that sends the CONNECT, just before it
	// does (applyAuth), since the library itself adds the recovery pid and offset to it there.
	authMu   sync.Mutex
	nextAuth map[string]any
}

// Dial starts connecting and returns at once; Handler.OnConnect reports success.
func Dial(o Options, h Handler) (*Client, error) {
	c, err := New(o, h)
	if err != nil {
		return nil, err
	}
	c.Connect()
	return c, nil
}

// New prepares a connection without starting it, so that the caller can keep the Client where
// its handler finds it before any event arrives; Connect starts it.
func New(o Options, h Handler) (*Client, error) {
	base := strings.TrimRight(o.URL, "/")
	base = strings.Replace(strings.Replace(base, "ws://", "http://", 1), "wss://", "https://", 1)
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("relay URL %q must start with http:// or https://", o.URL)
	}
	opts := sio.DefaultOptions()
	// Websocket only, and the transport bounds the connection attempt (see transport.go).
	opts.SetTransports(types.NewSet[engine.TransportCtor](wsTransportCtor{connectTimeout: orDefault(o.ConnectTimeout, DefaultConnectTimeout)}))
	opts.SetParser(sioparser.New(sioparser.Options{StringsAsGo: true}))
	opts.SetForceNew(true)
	auth, err := authObject(o.Auth)
	if err != nil {
		return nil, err
	}
	opts.SetAuth(auth)
	if o.Header != nil {
		opts.SetExtraHeaders(o.Header)
	}
	if o.Query != nil {
		opts.SetQuery(o.Query)
	}
	opts.SetReconnection(o.Reconnect)
	if o.Reconnect {
		opts.SetReconnectionDelay(float64(orDefault(o.ReconnectDelay, DefaultReconnectDelay).Milliseconds()))
		opts.SetReconnectionDelayMax(float64(orDefault(o.ReconnectDelayMax, DefaultReconnectDelayMax).Milliseconds()))
	}
	opts.SetTimeout(noManagerTimeout)
	opts.SetAutoConnect(false)
	s, err := sio.Connect(base+o.Namespace, opts)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s%s: %w", base, o.Namespace, err)
	}
	c := &Client{s: s}
	// Registered before the socket subscribes (in Connect), so it runs first on each open.
	_ = s.Io().On("open", func(...any) { c.applyAuth() })
	_ = s.On("connect", func(...any) {
		if h.OnConnect != nil {
			h.OnConnect()
		}
	})
	_ = s.On("connect_error", func(args ...any) {
		if h.OnConnectError != nil {
			h.OnConnectError(connectError(args))
		}
	})
	_ = s.On("disconnect", func(args ...any) {
		reason := ""
		if len(args) > 0 {
			reason, _ = args[0].(string)
		}
		if h.OnDisconnect != nil {
			h.OnDisconnect(reason)
		}
	})
	s.OnAny(func(args ...any) {
		if len(args) == 0 || h.OnEvent == nil {
			return
		}
		event, _ := args[0].(string)
		var payload []byte
		if len(args) > 1 {
			payload = rawArg(args[1])
		}
		h.OnEvent(event, payload)
	})
	return c, nil
}

// authObject decodes a handshake auth object for the library, which sends a map.
func authObject(raw []byte) (map[string]any, error) {
	auth := map[string]any{}
	if len(raw) == 0 {
		return auth, nil
	}
	if err := json.Unmarshal(raw, &auth); err != nil || auth == nil {
		return nil, fmt.Errorf("the handshake auth must be a JSON object: %s", raw)
	}
	return auth, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// connectError turns the library's connect_error argument into an error. A refusal by the relay
// is a *protocol.Error with the code and message of its data (errors.Is(err,
// protocol.ErrUnauthorized) for a refused API key); other failures keep the library's error.
func connectError(args []any) error {
	if len(args) == 0 {
		return errors.New("connect error")
	}
	err, ok := args[0].(error)
	if !ok {
		return fmt.Errorf("%v", args[0])
	}
	var xe *types.ExtendedError
	if errors.As(err, &xe) {
		if coded := codedError(xe.Data); coded != nil {
			return coded
		}
	}
	return err
}

// codedError decodes the data of a relay's connect_error, a protocol.ErrorMessage; nil when it is
// not one.
func codedError(data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil
	}
	var m protocol.ErrorMessage
	if err := m.UnmarshalJSON(raw); err != nil {
		return nil
	}
	return protocol.NewError(m.Code, m.Message)
}

// rawArg returns an event argument as JSON.
func rawArg(a any) []byte {
	switch v := a.(type) {
	case json.RawMessage:
		return v
	case string:
		b, _ := json.Marshal(v)
		return b
	default:
		b, _ := json.Marshal(v)
		return b
	}
}

// Connect starts connecting (once); Handler.OnConnect reports success.
func (c *Client) Connect() {
	c.applyAuth()
	c.s.Connect()
}

// Send emits an event with one JSON payload. It implements protocol.Sender.
func (c *Client) Send(event string, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.s.Emit(event, json.RawMessage(payload))
}

// SendWithAck emits an event and waits for its acknowledgement, until ctx ends (10 s when ctx has
// no deadline). It implements protocol.AckSender.
func (c *Client) SendWithAck(ctx context.Context, event string, payload []byte) ([]byte, error) {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	type result struct {
		raw []byte
		err error
	}
	done := make(chan result, 1)
	c.mu.Lock()
	c.s.Timeout(timeout).EmitWithAck(event, json.RawMessage(payload))(func(args []any, err error) {
		if err != nil {
			done <- result{err: fmt.Errorf("%s: no acknowledgement: %w", event, err)}
			return
		}
		if len(args) == 0 {
			done <- result{raw: []byte("{}")}
			return
		}
		done <- result{raw: rawArg(args[0])}
	})
	c.mu.Unlock()
	select {
	case r := <-done:
		return r.raw, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SetAuth replaces the handshake auth object (JSON) sent on the next (re)connection. It
// implements protocol.ClientConn; an auth that is not a JSON object is ignored.
func (c *Client) SetAuth(raw []byte) {
	next, err := authObject(raw)
	if err != nil {
		return
	}
	c.authMu.Lock()
	c.nextAuth = next
	c.authMu.Unlock()
}

// applyAuth puts the auth SetAuth left into the library's auth map, before a CONNECT is sent.
func (c *Client) applyAuth() {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.nextAuth == nil {
		return
	}
	auth := c.s.Auth()
	clear(auth)
	maps.Copy(auth, c.nextAuth)
	c.nextAuth = nil
}

// Connected reports whether the socket is connected now.
func (c *Client) Connected() bool { return c.s.Connected() }

// Recovered reports whether the last connection recovered the previous Socket.IO session (same
// socket id, missed packets delivered) instead of starting a new one.
func (c *Client) Recovered() bool { return c.s.Recovered() }

// ID returns the socket id ("" while disconnected).
func (c *Client) ID() string { return c.s.Id() }

// Close leaves the namespace and stops reconnecting. It returns once the namespace DISCONNECT has
// been written and the connection closed (within closeWait), so that the server sees a client that
// left rather than a lost connection, even when the program exits right after. (Called from a
// Handler callback, it may wait the whole closeWait for the server's answer.)
func (c *Client) Close() {
	var t *wsTransport
	if e := c.s.Io().Engine(); e != nil {
		t, _ = e.Transport().(*wsTransport)
	}
	c.s.Disconnect()
	if t == nil {
		return
	}
	select {
	case <-t.finished():
	case <-time.After(closeWait):
	}
}

// Abandon drops the connection as a network failure would, without leaving the namespace, and
// stops reconnecting: for a client replaced by a new connection, the server keeps what this one
// held (a CLI's session waits the reconnect grace) for the new one to take over.
func (c *Client) Abandon() {
	c.DropTransport() // the socket is disconnected at once: Close sends no DISCONNECT
	c.Close()
}

// DropTransport closes the underlying connection as a network failure would; a client with
// Reconnect set connects again. Tests use it.
func (c *Client) DropTransport() {
	if e := c.s.Io().Engine(); e != nil {
		e.Close()
	}
}
