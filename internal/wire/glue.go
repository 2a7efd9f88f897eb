package wire

import "context"

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
