package wire

import (
	"context"
	"sync/atomic"
)

// Socket is one connected socket of a namespace as a transport drives it: Dispatch is called for
// each event the client sends, one at a time and in the order sent, and returns the encoded
// acknowledgement of events that have one; Disconnected is called once, after the last event.
// clientLeft says that the client closed the namespace on purpose; reason is the transport's
// description, for logs. The generated Mount functions adapt a namespace's ServerSocket to it.
type Socket interface {
	Dispatch(ctx context.Context, event string, payload []byte) ([]byte, error)
	Disconnected(reason string, clientLeft bool)
}

// Namespace is one namespace of the contract as a generated Mount function hands it to a
// Mounter. C is whatever the server keeps for a connecting socket (its connection and user).
type Namespace[C any] struct {
	// Path is the namespace, e.g. "/relay".
	Path string
	// CredentialRequired says that the handshake auth must carry the credential (the property
	// the schema marks x-credential); otherwise a browser's session cookie may stand in for it.
	CredentialRequired bool
	// Credential checks a handshake auth object (JSON) against the contract and returns the
	// credential it carries, "" when it has none. A missing or malformed credential is an error
	// with code unauthorized, any other mismatch one with code invalid that wraps the
	// *Error naming the JSON pointer of the problem.
	Credential func(auth []byte) (string, error)
	// Connect decodes the handshake auth object of a socket whose user the Mounter has
	// authenticated and returns the socket's handler. A nil Socket without an error means that
	// the server answered the client and closed the socket itself.
	Connect func(ctx context.Context, c C, auth []byte) (Socket, error)
}

// Mounter registers namespaces on a server transport: it authenticates each connecting socket
// (by the credential, or a session cookie where the namespace allows one), builds its C and
// drives its Socket.
type Mounter[C any] interface {
	MountNamespace(ns Namespace[C])
}

// Hooks tell a Go client how its connection fares; every field may be nil. They run one at a
// time, in order, on the connection's event goroutine (as the handler's methods do) and must not
// block for long.
type Hooks struct {
	// Connected reports that the namespace connection is established (again, after a
	// reconnection).
	Connected func()
	// ConnectFailed reports a failed attempt to connect. A refusal by the relay is a
	// *protocol.Error: errors.Is(err, protocol.ErrUnauthorized) for a refused credential.
	ConnectFailed func(err error)
	// Disconnected reports that the connection ended. serverClosed says that the relay closed
	// the namespace on purpose, after which the client does not reconnect by itself; reason is
	// the transport's description, for people.
	Disconnected func(reason string, serverClosed bool)
	// EventFailed reports an event from the relay that could not be handled: it does not match
	// the contract, or the handler returned an error.
	EventFailed func(event string, err error)
}

// ClientConn is a Go client's connection to one namespace, as the generated Dial functions use
// it; internal/sioclient implements it over Socket.IO.
type ClientConn interface {
	AckSender
	// Connect starts connecting; Hooks report how it goes.
	Connect()
	// SetAuth replaces the handshake auth object (JSON) sent on the next (re)connection.
	SetAuth(auth []byte)
	// Close leaves the namespace (the relay sees a client that left on purpose) and stops
	// reconnecting.
	Close()
	// Abandon drops the connection as a network failure would, without leaving the namespace,
	// and stops reconnecting: the relay keeps what the client held for a connection that takes
	// over.
	Abandon()
	// DropTransport closes the underlying connection as a network failure would; a client that
	// reconnects connects again.
	DropTransport()
}

// Dialer opens Go clients' connections to the relay's namespaces for the generated Dial
// functions; internal/sioclient implements it over Socket.IO.
type Dialer interface {
	// Dial prepares a connection to namespace with the handshake auth object auth (JSON);
	// ClientConn.Connect starts it. Each event from the relay goes to event with its single JSON
	// argument, the connection's life to hooks (EventFailed is left to the caller).
	Dial(namespace string, auth []byte, hooks Hooks, event func(name string, payload []byte)) (ClientConn, error)
}

// ServerSocket is what every namespace's generated ServerSocket has beyond its event handlers.
type ServerSocket interface {
	Disconnected(reason string, clientLeft bool)
}

// Typed describes a namespace to Mount: A is its handshake Auth type, S its ServerSocket.
type Typed[A any, S ServerSocket] struct {
	// Path is the namespace, e.g. "/relay".
	Path string
	// CredentialRequired says that the handshake auth must carry the credential.
	CredentialRequired bool
	// DecodeAuth decodes a handshake auth object (JSON) and checks it against the contract.
	DecodeAuth func(raw []byte) (*A, error)
	// Credential returns the credential of a decoded handshake auth, "" when it has none.
	Credential func(a *A) string
	// Dispatch gives one event to a socket (the namespace's DispatchServer).
	Dispatch func(ctx context.Context, s S, event string, payload []byte) ([]byte, error)
}

// Mount registers the namespace t on m: the handshake auth of a connecting socket is decoded
// and checked once for its credential and once more for connect, which returns the socket's S
// (nil when it answered the client and closed the socket itself); the socket's events then go
// through t.Dispatch.
func Mount[C, A any, S ServerSocket](m Mounter[C], t Typed[A, S], connect func(ctx context.Context, c C, auth *A) (S, error)) {
	m.MountNamespace(Namespace[C]{
		Path:               t.Path,
		CredentialRequired: t.CredentialRequired,
		Credential: func(raw []byte) (string, error) {
			a, err := t.DecodeAuth(raw)
			if err != nil {
				return "", err
			}
			return t.Credential(a), nil
		},
		Connect: func(ctx context.Context, c C, raw []byte) (Socket, error) {
			a, err := t.DecodeAuth(raw)
			if err != nil {
				return nil, err
			}
			s, err := connect(ctx, c, a)
			if err != nil || any(s) == nil {
				return nil, err
			}
			return typedSocket[S]{s: s, dispatch: t.Dispatch}, nil
		},
	})
}

// typedSocket drives a namespace's ServerSocket as a Socket.
type typedSocket[S ServerSocket] struct {
	s        S
	dispatch func(ctx context.Context, s S, event string, payload []byte) ([]byte, error)
}

// Dispatch implements Socket.
func (t typedSocket[S]) Dispatch(ctx context.Context, event string, payload []byte) ([]byte, error) {
	return t.dispatch(ctx, t.s, event, payload)
}

// Disconnected implements Socket.
func (t typedSocket[S]) Disconnected(reason string, clientLeft bool) {
	t.s.Disconnected(reason, clientLeft)
}

// Conn is the part of every namespace's generated Client that runs its connection: Connect,
// Close, Abandon and DropTransport. Once Close or Abandon is called, no more events reach the
// client's handler.
type Conn struct {
	conn   ClientConn
	closed atomic.Bool
}

// DialConn prepares a connection to namespace through d with the handshake auth object auth
// (JSON). Each event from the relay goes to dispatch until the Conn is closed; one that dispatch
// fails goes to hooks.EventFailed.
func DialConn(d Dialer, namespace string, auth []byte, hooks Hooks, dispatch func(event string, payload []byte) error) (*Conn, error) {
	c := new(Conn)
	conn, err := d.Dial(namespace, auth, hooks, func(event string, payload []byte) {
		if c.closed.Load() {
			return
		}
		if err := dispatch(event, payload); err != nil && hooks.EventFailed != nil {
			hooks.EventFailed(event, err)
		}
	})
	if err != nil {
		return nil, err
	}
	c.conn = conn
	return c, nil
}

// Sender returns what the client's emitter sends its events through.
func (c *Conn) Sender() AckSender { return c.conn }

// Connect starts connecting; the hooks report how it goes.
func (c *Conn) Connect() { c.conn.Connect() }

// SetAuthJSON replaces the handshake auth object (JSON) sent on the next (re)connection.
func (c *Conn) SetAuthJSON(auth []byte) { c.conn.SetAuth(auth) }

// Close leaves the namespace, so that the relay sees a client that left on purpose, and stops
// reconnecting.
func (c *Conn) Close() {
	c.closed.Store(true)
	c.conn.Close()
}

// Abandon drops the connection as a network failure would, without leaving the namespace, and
// stops reconnecting: the relay keeps what this client held for a connection that takes over.
func (c *Conn) Abandon() {
	c.closed.Store(true)
	c.conn.Abandon()
}

// DropTransport closes the underlying connection as a network failure would; a client that
// reconnects connects again.
func (c *Conn) DropTransport() { c.conn.DropTransport() }
