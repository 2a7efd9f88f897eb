package gen

import (
	"context"
	"errors"
	"testing"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/relay"
	"github.com/pizzapi/pizzapi/protocol/viewer"
)

// mounter records what the generated Mount functions register.
type mounter struct{ ns []protocol.Namespace[string] }

func (m *mounter) MountNamespace(ns protocol.Namespace[string]) { m.ns = append(m.ns, ns) }

// cliSocket is a relay ServerSocket that records what it handles.
type cliSocket struct {
	relay.UnimplementedServerHandler
	registered string
	left       bool
}

func (s *cliSocket) Register(_ context.Context, p *relay.Register) (*relay.Registered, error) {
	s.registered = p.Cwd
	return &relay.Registered{SessionID: "s1", Token: "t"}, nil
}

func (s *cliSocket) Disconnected(_ string, clientLeft bool) { s.left = clientLeft }

// TestMount checks the generated server glue of the real contract: the handshake auth is checked
// against the contract (a bad credential is unauthorized, anything else invalid with its pointer),
// the credential is found for the Mounter, and a ServerSocket is driven through DispatchServer.
func TestMount(t *testing.T) {
	var m mounter
	sock := &cliSocket{}
	var gotUser string
	relay.Mount(&m, func(_ context.Context, c string, a *relay.Auth) (relay.ServerSocket, error) {
		gotUser = c
		return sock, nil
	})
	viewer.Mount(&m, func(context.Context, string, *viewer.Auth) (viewer.ServerSocket, error) { return nil, nil })
	rel, view := m.ns[0], m.ns[1]
	if rel.Path != relay.Namespace || !rel.CredentialRequired || view.Path != viewer.Namespace || view.CredentialRequired {
		t.Fatalf("namespaces: %+v %+v", rel, view)
	}
	for _, raw := range []string{`{}`, `{"apiKey": 5}`, `{"apiKey": ""}`} {
		if _, err := rel.Credential([]byte(raw)); !errors.Is(err, protocol.ErrUnauthorized) {
			t.Errorf("relay auth %s: %v, want unauthorized", raw, err)
		}
	}
	if key, err := rel.Credential([]byte(`{"apiKey": "k", "runnerId": "extra"}`)); key != "k" || err != nil {
		t.Errorf("relay credential = %q, %v", key, err)
	}
	if key, err := view.Credential([]byte(`{"sessionId": "4f9c2d4e-6a1b-4c1d-9a55-3e1f0b7c9d21"}`)); key != "" || err != nil {
		t.Errorf("viewer without a key = %q, %v (a cookie may stand in)", key, err)
	}
	_, err := view.Credential([]byte(`{"apiKey": "k", "lastSeq": -1}`))
	var ve *protocol.ValidationError
	if !errors.Is(err, protocol.ErrInvalid) || !errors.As(err, &ve) || ve.Pointer != "/lastSeq" {
		t.Errorf("viewer auth with a bad lastSeq: %v, want invalid at /lastSeq", err)
	}
	if s, err := view.Connect(context.Background(), "u1", []byte(`{}`)); s != nil || err != nil {
		t.Errorf("a socket the server closed itself = %v, %v", s, err)
	}

	s, err := rel.Connect(context.Background(), "u1", []byte(`{"apiKey": "k"}`))
	if err != nil || gotUser != "u1" {
		t.Fatalf("connect: %v (user %q)", err, gotUser)
	}
	ack, err := s.Dispatch(context.Background(), relay.EventRegister, []byte(`{"cwd": "/tmp"}`))
	if err != nil || sock.registered != "/tmp" {
		t.Fatalf("register: %s, %v", ack, err)
	}
	var reg relay.Registered
	if err := reg.UnmarshalJSON(ack); err != nil || reg.SessionID != "s1" {
		t.Errorf("ack %s: %v", ack, err)
	}
	var ee *protocol.EventError
	if _, err := s.Dispatch(context.Background(), relay.EventRegister, []byte(`{"cwd": 1}`)); !errors.As(err, &ee) || ee.Pointer != "/cwd" {
		t.Errorf("a bad payload: %v", err)
	}
	s.Disconnected("client namespace disconnect", true)
	if !sock.left {
		t.Error("Disconnected did not reach the ServerSocket")
	}
}

// dialer is a protocol.Dialer whose connection records what the client does.
type dialer struct {
	nsp, auth string
	hooks     protocol.Hooks
	event     func(string, []byte)
	conn      *clientConn
}

func (d *dialer) Dial(nsp string, auth []byte, hooks protocol.Hooks, event func(string, []byte)) (protocol.ClientConn, error) {
	d.nsp, d.auth, d.hooks, d.event = nsp, string(auth), hooks, event
	d.conn = &clientConn{}
	return d.conn, nil
}

type clientConn struct {
	sent, auth string
	closed     bool
	protocol.AckSender
}

func (c *clientConn) Send(event string, payload []byte) error {
	c.sent = event + " " + string(payload)
	return nil
}
func (c *clientConn) Connect()            {}
func (c *clientConn) SetAuth(auth []byte) { c.auth = string(auth) }
func (c *clientConn) Close()              { c.closed = true }
func (c *clientConn) Abandon()            {}
func (c *clientConn) DropTransport()      {}

// follower is a viewer ClientHandler that counts the snapshots it gets.
type follower struct {
	viewer.UnimplementedClientHandler
	connected int
}

func (f *follower) Connected(context.Context, *viewer.SessionConnected) error {
	f.connected++
	return nil
}

// TestDial checks the generated client glue: the typed auth goes out as JSON, events reach the
// handler through DispatchClient, the ones it cannot handle reach EventFailed, sends are typed,
// and a closed client's handler gets nothing more.
func TestDial(t *testing.T) {
	d := &dialer{}
	f := &follower{}
	var failed []string
	auth := &viewer.Auth{SessionID: protocol.Some("4f9c2d4e-6a1b-4c1d-9a55-3e1f0b7c9d21"), APIKey: protocol.Some("k")}
	c, err := viewer.Dial(context.Background(), d, auth, f, protocol.Hooks{EventFailed: func(event string, _ error) { failed = append(failed, event) }})
	if err != nil {
		t.Fatal(err)
	}
	if d.nsp != viewer.Namespace || d.auth != `{"sessionId":"4f9c2d4e-6a1b-4c1d-9a55-3e1f0b7c9d21","apiKey":"k"}` {
		t.Errorf("dialed %s with %s", d.nsp, d.auth)
	}
	connected := []byte(`{"sessionId": "4f9c2d4e-6a1b-4c1d-9a55-3e1f0b7c9d21"}`)
	d.event(viewer.EventConnected, connected)
	d.event(viewer.EventConnected, []byte(`{"sessionId": 1}`))
	d.event(viewer.EventExecResult, []byte(`{"id": "x", "command": "abort", "ok": true}`))
	if f.connected != 1 || len(failed) != 2 || failed[0] != viewer.EventConnected || failed[1] != viewer.EventExecResult {
		t.Errorf("connected %d times, failed %v", f.connected, failed)
	}
	if err := c.Resync(&viewer.Resync{LastSeq: protocol.Some[int64](4)}); err != nil || d.conn.sent != `resync {"lastSeq":4}` {
		t.Errorf("resync sent %q: %v", d.conn.sent, err)
	}
	auth.LastSeq = protocol.Some[int64](4)
	c.SetAuth(auth)
	if d.conn.auth != `{"sessionId":"4f9c2d4e-6a1b-4c1d-9a55-3e1f0b7c9d21","apiKey":"k","lastSeq":4}` {
		t.Errorf("auth for the next connection: %s", d.conn.auth)
	}
	c.Close()
	d.event(viewer.EventConnected, connected)
	if !d.conn.closed || f.connected != 1 {
		t.Error("a closed client still handles events")
	}
}
