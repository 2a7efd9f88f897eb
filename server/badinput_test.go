package server_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/protocol/viewer"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

type errorEvent struct {
	Message string
	Event   string
	Pointer string
}

func nextError(t *testing.T, c *servertest.Conn) errorEvent {
	t.Helper()
	var e errorEvent
	if err := json.Unmarshal(c.Next(t, "error"), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestBadInput: malformed, unknown and oversized events get an error event naming what was wrong;
// nothing changes and the socket, and others, keep working.
func TestBadInput(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) { c.MaxMessageBytes = 64 << 10 })
	u := n.NewUser(t)
	c, reg := cli(t, n, u, "s-bad")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s-bad"}})
	v.Next(t, "connected")

	cases := []struct {
		event, payload, pointer, message string
	}{
		{"register", `{"sessionId":"x"}`, "/cwd", `missing required property "cwd"`},
		{"register", `{"cwd":42}`, "/cwd", "expected string, got number"},
		{"event", `{"sessionId":"s","token":"t","event":{"type":"heartbeat","active":"yes"}}`, "/event/active", "expected boolean, got string"},
		{"event", `{"sessionId":"s","token":"t","event":{"type":"x"},"bogus":1}`, "/bogus", `unknown property "bogus"`},
		{"event", `["not","an","object"]`, "", "expected object, got array"},
		{"nonsense", `{}`, "", "unknown event"},
		{"event", `{"sessionId":"s","token":"` + strings.Repeat("x", 70<<10) + `"}`, "", "message too large"},
	}
	for _, tc := range cases {
		c.Emit(t, tc.event, tc.payload)
		e := nextError(t, c)
		if e.Event != tc.event || e.Pointer != tc.pointer || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s %.60s: got %+v, want pointer %q and %q", tc.event, tc.payload, e, tc.pointer, tc.message)
		}
	}
	// A null payload is not an object either.
	if err := c.Client.Send("event", nil); err != nil {
		t.Fatal(err)
	}
	if e := nextError(t, c); e.Event != "event" || e.Message != "expected object, got null" {
		t.Errorf("null payload: %+v", e)
	}
	// A wrong token changes nothing.
	c.Emit(t, "event", `{"sessionId":"s-bad","token":"wrong","event":{"type":"x"}}`)
	if e := nextError(t, c); e.Message != "Invalid token" {
		t.Errorf("wrong token: %+v", e)
	}
	v.None(t, "event", 100*time.Millisecond)

	// The same socket still works, and so does the viewer.
	c.Emit(t, "event", agentEvent(reg, 1, `{"type":"message_update"}`))
	c.Next(t, "event_ack")
	if evs := viewerEvents(t, v.Take(t, "event", 1)); evs[0].Seq.Or(0) != 1 {
		t.Fatalf("seq %d", evs[0].Seq.Or(0))
	}
	// A viewer's invalid input is refused with a pointer as well.
	v.Emit(t, "input", `{"text":5}`)
	if e := nextError(t, v); e.Pointer != "/text" || e.Event != "input" {
		t.Errorf("viewer: %+v", e)
	}
}

// TestAuthFailures: every namespace refuses a connection without valid credentials with
// connect_error "unauthorized" (code unauthorized); a malformed handshake says what is wrong
// (code invalid).
func TestAuthFailures(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	for _, nsp := range []string{"/relay", "/viewer", "/runner", "/terminal", "/hub"} {
		for name, auth := range map[string]map[string]any{
			"none":          {},
			"bad key":       {"apiKey": "pzp_not_a_key"},
			"malformed key": {"apiKey": 5},
		} {
			if err := n.Refused(t, nsp, servertest.DialOptions{Auth: auth}); err.Error() != "unauthorized" || !errors.Is(err, protocol.ErrUnauthorized) {
				t.Errorf("%s with %s: %v", nsp, name, err)
			}
		}
	}
	// /relay and /runner do not take the cookie.
	if err := n.Refused(t, "/relay", servertest.DialOptions{User: &u, Cookie: true}); !errors.Is(err, protocol.ErrUnauthorized) {
		t.Errorf("relay with a cookie: %v", err)
	}
	if err := n.Refused(t, "/viewer", servertest.DialOptions{User: &u, Auth: map[string]any{"sessionId": "s", "lastSeq": "x"}}); !strings.Contains(err.Error(), "/lastSeq") || !errors.Is(err, protocol.ErrInvalid) {
		t.Errorf("malformed handshake: %v", err)
	}
}

// TestQueryNamesSessionOrTerminal: PizzaPi's viewers and terminals may name their session or
// terminal in the handshake query instead of the auth object.
func TestQueryNamesSessionOrTerminal(t *testing.T) {
	n := servertest.Start(t)
	u := n.NewUser(t)
	cli(t, n, u, "s-query")
	v := n.Dial(t, "/viewer", servertest.DialOptions{User: &u, Query: url.Values{"sessionId": {"s-query"}}})
	var hello viewer.SessionConnected
	v.NextInto(t, "connected", &hello)
	if hello.SessionID != "s-query" {
		t.Errorf("connected to %s", hello.AppendJSON(nil))
	}
	term := n.Dial(t, "/terminal", servertest.DialOptions{User: &u, Query: url.Values{"terminalId": {"t-none"}}})
	var e protocol.TerminalError
	term.NextInto(t, "terminal_error", &e)
	if e.TerminalID != "t-none" || e.Code.Or("") != protocol.ErrorCodeTerminalNotFound {
		t.Errorf("terminal error %s, want terminal_not_found for the query's terminal", e.AppendJSON(nil))
	}
}
