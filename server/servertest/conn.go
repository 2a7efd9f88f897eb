package servertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/internal/sioclient"
)

// Timeout is how long a test waits for something to arrive.
const Timeout = 10 * time.Second

// Event is one event a Conn received.
type Event struct {
	Name    string
	Payload json.RawMessage
}

// Conn is a real Socket.IO client connected to a node, recording what it receives.
type Conn struct {
	*sioclient.Client
	t testing.TB

	mu          sync.Mutex
	events      []Event
	cond        chan struct{}
	disconnects []string
	connects    int
	connErr     error
}

// DialOptions adjusts a connection.
type DialOptions struct {
	// URL overrides the node's URL (to connect through a Proxy).
	URL string
	// Auth is the handshake auth object, as the test wants it sent (also what the contract
	// refuses).
	Auth map[string]any
	// Query holds extra query parameters of the handshake request.
	Query     url.Values
	User      *User // sends the user's API key when Auth has none, or its cookie with Cookie set
	Cookie    bool
	Reconnect bool
	// NoWait returns without waiting for the connection (to observe a refusal).
	NoWait bool
}

// Dial connects to a namespace of the node and waits for the connection (unless o.NoWait).
func (n *Node) Dial(t testing.TB, nsp string, o DialOptions) *Conn {
	t.Helper()
	c := n.dial(t, nsp, o)
	if o.NoWait {
		return c
	}
	// Without reconnection a refusal is final: fail at once rather than at the timeout.
	c.waitFor(Timeout, func() bool { return c.connects > 0 || (c.connErr != nil && !o.Reconnect) })
	c.mu.Lock()
	connected := c.connects > 0
	c.mu.Unlock()
	if !connected {
		t.Fatalf("%s: could not connect: %v", nsp, c.ConnectError())
	}
	return c
}

func (n *Node) dial(t testing.TB, nsp string, o DialOptions) *Conn {
	auth := map[string]any{}
	for k, v := range o.Auth {
		auth[k] = v
	}
	url := n.URL
	if o.URL != "" {
		url = o.URL
	}
	opts := sioclient.Options{URL: url, Namespace: nsp, Query: o.Query, Reconnect: o.Reconnect, ReconnectDelay: 100 * time.Millisecond, ReconnectDelayMax: 500 * time.Millisecond, ConnectTimeout: 2 * time.Second}
	if o.User != nil {
		if o.Cookie {
			opts.Header = o.User.CookieHeader()
		} else if _, ok := auth["apiKey"]; !ok {
			auth["apiKey"] = o.User.APIKey
		}
	}
	raw, err := json.Marshal(auth)
	if err != nil {
		t.Fatal(err)
	}
	opts.Auth = raw
	c := &Conn{t: t, cond: make(chan struct{})}
	client, err := sioclient.Dial(opts, sioclient.Handler{
		OnConnect: func() {
			c.mu.Lock()
			c.connects++
			c.signal()
			c.mu.Unlock()
		},
		OnConnectError: func(err error) {
			c.mu.Lock()
			c.connErr = err
			c.signal()
			c.mu.Unlock()
		},
		OnDisconnect: func(reason string) {
			c.mu.Lock()
			c.disconnects = append(c.disconnects, reason)
			c.signal()
			c.mu.Unlock()
		},
		OnEvent: func(event string, payload []byte) {
			c.mu.Lock()
			c.events = append(c.events, Event{event, append(json.RawMessage(nil), payload...)})
			c.signal()
			c.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Client = client
	t.Cleanup(client.Close)
	return c
}

// signal wakes waiters; the caller holds mu.
func (c *Conn) signal() {
	close(c.cond)
	c.cond = make(chan struct{})
}

// waitFor waits until ok (called with mu held) is true or the timeout passes.
func (c *Conn) waitFor(timeout time.Duration, ok func() bool) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		if ok() {
			c.mu.Unlock()
			return true
		}
		ch := c.cond
		c.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// ConnectError returns the last connect_error.
func (c *Conn) ConnectError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connErr
}

// Refused connects expecting the server to refuse the connection and returns the connect_error
// it sent.
func (n *Node) Refused(t testing.TB, nsp string, o DialOptions) error {
	t.Helper()
	o.NoWait, o.Reconnect = true, false
	c := n.dial(t, nsp, o)
	defer c.Close()
	c.waitFor(Timeout, func() bool { return c.connErr != nil || c.connects > 0 })
	c.mu.Lock()
	connected, err := c.connects > 0, c.connErr
	c.mu.Unlock()
	switch {
	case connected:
		t.Fatalf("%s: connected, want a refusal", nsp)
	case err == nil:
		t.Fatalf("%s: neither connected nor refused in %v", nsp, Timeout)
	}
	return err
}

// WaitConnectError waits for a connect_error and returns it.
func (c *Conn) WaitConnectError(t testing.TB) error {
	t.Helper()
	if !c.waitFor(Timeout, func() bool { return c.connErr != nil }) {
		t.Fatal("no connect_error")
	}
	return c.ConnectError()
}

// WaitConnects waits until the client has connected n times in all (reconnections count).
func (c *Conn) WaitConnects(t testing.TB, n int) {
	t.Helper()
	if !c.waitFor(Timeout, func() bool { return c.connects >= n }) {
		t.Fatalf("connected %d times, want %d", c.connects, n)
	}
}

// WaitDisconnect waits for a disconnect and returns its reason.
func (c *Conn) WaitDisconnect(t testing.TB) string {
	t.Helper()
	var reason string
	if !c.waitFor(Timeout, func() bool {
		if len(c.disconnects) > 0 {
			reason = c.disconnects[0]
			c.disconnects = c.disconnects[1:]
			return true
		}
		return false
	}) {
		t.Fatal("no disconnect")
	}
	return reason
}

// Next removes and returns the first received event named name (other events stay, in order).
func (c *Conn) Next(t testing.TB, name string) json.RawMessage {
	t.Helper()
	var got json.RawMessage
	if !c.waitFor(Timeout, func() bool {
		for i, e := range c.events {
			if e.Name == name {
				got = e.Payload
				c.events = append(c.events[:i], c.events[i+1:]...)
				return true
			}
		}
		return false
	}) {
		t.Fatalf("no %q event; received %v", name, c.Names())
	}
	return got
}

// TryNext is Next without failing: it reports whether an event named name arrived within d.
func (c *Conn) TryNext(name string, d time.Duration) (json.RawMessage, bool) {
	var got json.RawMessage
	ok := c.waitFor(d, func() bool {
		for i, e := range c.events {
			if e.Name == name {
				got = e.Payload
				c.events = append(c.events[:i], c.events[i+1:]...)
				return true
			}
		}
		return false
	})
	return got, ok
}

// NextInto is Next decoding the payload into v.
func (c *Conn) NextInto(t testing.TB, name string, v interface{ UnmarshalJSON([]byte) error }) {
	t.Helper()
	raw := c.Next(t, name)
	if err := v.UnmarshalJSON(raw); err != nil {
		t.Fatalf("%s payload %s: %v", name, raw, err)
	}
}

// Take removes and returns the first n events named name, waiting for them.
func (c *Conn) Take(t testing.TB, name string, n int) []json.RawMessage {
	t.Helper()
	out := make([]json.RawMessage, 0, n)
	for len(out) < n {
		out = append(out, c.Next(t, name))
	}
	return out
}

// None checks that no event named name arrives within d.
func (c *Conn) None(t testing.TB, name string, d time.Duration) {
	t.Helper()
	if c.waitFor(d, func() bool {
		for _, e := range c.events {
			if e.Name == name {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("unexpected %q event", name)
	}
}

// Names lists the events received and not taken yet.
func (c *Conn) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, len(c.events))
	for i, e := range c.events {
		names[i] = e.Name
	}
	return names
}

// Emit sends an event with a payload given as any JSON-encodable value or raw JSON.
func (c *Conn) Emit(t testing.TB, event string, payload any) {
	t.Helper()
	if err := c.Send(event, toJSON(t, payload)); err != nil {
		t.Fatal(err)
	}
}

// Ack sends an event and returns its acknowledgement.
func (c *Conn) Ack(t testing.TB, event string, payload any) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	raw, err := c.SendWithAck(ctx, event, toJSON(t, payload))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func toJSON(t testing.TB, v any) []byte {
	switch p := v.(type) {
	case []byte:
		return p
	case string:
		return []byte(p)
	case interface{ AppendJSON([]byte) []byte }:
		return p.AppendJSON(nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(fmt.Errorf("encoding payload: %w", err))
	}
	return b
}
