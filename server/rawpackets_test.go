package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/protocol"
	"github.com/pizzapi/pizzapi/server/config"
	"github.com/pizzapi/pizzapi/server/servertest"
)

// rawConn speaks Engine.IO and Socket.IO by hand over a websocket, so that a test can send
// packets no Socket.IO client library would.
type rawConn struct {
	t    *testing.T
	ws   *websocket.Conn
	last string // the last frame sent
}

// rawDial opens a websocket to n and connects it to nsp with the API key of u.
func rawDial(t *testing.T, n *servertest.Node, u servertest.User, nsp string) *rawConn {
	t.Helper()
	c := rawOpen(t, n)
	c.send(`40` + nsp + `,{"apiKey":"` + u.APIKey + `"}`)
	c.expect(`0` + nsp + `,{"sid"`)
	return c
}

func (c *rawConn) send(frame string) {
	c.t.Helper()
	c.last = frame
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next Engine.IO open packet or Socket.IO packet (answering pings), or the
// error once the connection is closed.
func (c *rawConn) next() (string, error) {
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(servertest.Timeout))
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			return "", err
		}
		frame := string(data)
		switch {
		case typ != websocket.TextMessage:
		case frame == "2":
			_ = c.ws.WriteMessage(websocket.TextMessage, []byte("3"))
		case strings.HasPrefix(frame, "4"):
			return frame[1:], nil
		default:
			return frame, nil
		}
	}
}

// expect skips packets until one starts with prefix and returns it.
func (c *rawConn) expect(prefix string) string {
	c.t.Helper()
	for {
		frame, err := c.next()
		if err != nil {
			c.t.Fatalf("no packet %q (last sent %.40q): %v", prefix, c.last, err)
		}
		if strings.HasPrefix(frame, prefix) {
			return frame
		}
	}
}

// errorOf decodes the payload of an error event or of an acknowledgement.
func errorOf(t *testing.T, packet, prefix string) protocol.ErrorMessage {
	t.Helper()
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimPrefix(packet, prefix)), &args); err != nil || len(args) == 0 {
		t.Fatalf("packet %s: %v", packet, err)
	}
	var e protocol.ErrorMessage
	if err := e.UnmarshalJSON(args[len(args)-1]); err != nil {
		t.Fatalf("%s: %v", args[len(args)-1], err)
	}
	return e
}

// TestRawBadPackets: packets a Socket.IO library would not send get an `error` event with a code
// saying what was wrong, and the acknowledgement when one was asked for, and the connection goes
// on; a packet type clients never send is answered the same way and then the socket is closed
// (and logged), instead of a silent drop of the connection.
func TestRawBadPackets(t *testing.T) {
	n := servertest.Start(t, func(c *config.Config) { c.MaxMessageBytes = 64 << 10 })
	u := n.NewUser(t)
	c := rawDial(t, n, u, "/relay")
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	cases := []struct {
		name, frame string
		binary      bool
		ack         string // the ack id asked for
		code        protocol.ErrorCode
		message     string
	}{
		{"binary attachment", `451-/relay,5["event",{"_placeholder":true,"num":0}]`, true, "5", protocol.ErrorCodeInvalid, "binary attachments are not supported"},
		{"refused register", `42/relay,7["register",{"sessionId":"x"}]`, false, "7", protocol.ErrorCodeInvalid, `missing required property "cwd"`},
		{"oversized event", `42/relay,8["event",{"token":"` + strings.Repeat("x", 70<<10) + `"}]`, false, "8", protocol.ErrorCodeTooLarge, "message too large"},
		{"deep nesting", `42/relay,9["event",` + deep + `]`, false, "9", protocol.ErrorCodeInvalid, "nesting is deeper than"},
		{"invalid UTF-8", "42/relay,10[\"event\",{\"x\":\"\xff\xfe\"}]", false, "10", protocol.ErrorCodeInvalid, "malformed packet"},
		{"no event name", `42/relay,11[7,{}]`, false, "11", protocol.ErrorCodeInvalid, "the event name must be a string"},
		{"huge ack id", `42/relay,123456789012345678901234567890["event",{}]`, false, "", protocol.ErrorCodeInvalid, "the ack id has 30 digits"},
	}
	for _, tc := range cases {
		c.send(tc.frame)
		if tc.binary {
			if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
		}
		e := errorOf(t, c.expect(`2/relay,["error"`), `2/relay,`)
		if e.Code != tc.code || !strings.Contains(e.Message, tc.message) {
			t.Errorf("%s: error event %+v, want code %s and %q", tc.name, e, tc.code, tc.message)
		}
		if tc.ack != "" {
			a := errorOf(t, c.expect(`3/relay,`+tc.ack+`[`), `3/relay,`+tc.ack)
			if a.Code != tc.code || a.Message != e.Message {
				t.Errorf("%s: ack %+v, want the error event's %+v", tc.name, a, e)
			}
		}
	}
	// The connection still works.
	c.send(`42/relay,12["register",{"sessionId":"s-raw","cwd":"/home/ada"}]`)
	if ack := c.expect(`3/relay,12[`); !strings.Contains(ack, `"sessionId":"s-raw"`) {
		t.Fatalf("register after the bad packets: %s", ack)
	}

	// Packet types clients do not send close the socket, saying why first.
	for _, frame := range []string{`44/relay,{"message":"x"}`, `49/relay,{}`, `4/relay,{}`} {
		c := rawDial(t, n, u, "/relay")
		c.send(frame)
		e := errorOf(t, c.expect(`2/relay,["error"`), `2/relay,`)
		if e.Code != protocol.ErrorCodeInvalid || !strings.Contains(e.Message, "clients do not send packets of type '"+frame[1:2]+"'") {
			t.Errorf("%s: error event %+v", frame, e)
		}
		c.expect(`1/relay,`)
	}
}

// TestRawPacketsOutsideNamespaces: a packet the library cannot decode, or one for a namespace the
// connection has not joined, makes the library close the whole connection; the relay logs each
// such close at warn level with the client's address and the reason, and other connections go on.
func TestRawPacketsOutsideNamespaces(t *testing.T) {
	logs := &syncbuf.Buffer{}
	n := servertest.StartLogged(t, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	u := n.NewUser(t)
	bystander := rawDial(t, n, u, "/relay")
	cases := []struct{ name, frame, reason string }{
		{"unterminated event", `42["event",{"x":`, "an undecodable packet"},
		{"invalid UTF-8", "42[\"event\",\"\xff\"]", "an undecodable packet"},
		{"wrong type", `47/relay,{}`, `a packet of a type clients do not send ('7')`},
		{"event before connect", `42/relay,["event",{}]`, `/relay\", a namespace the connection has not joined`},
		{"engine packet type", `7x`, "an invalid Engine.IO packet"},
		{"bad connect payload", `40/relay,"x"`, "an undecodable packet"},
	}
	for _, tc := range cases {
		before := strings.Count(logs.String(), "connection closed after a packet outside its namespaces")
		c := rawOpen(t, n)
		c.send(tc.frame)
		for {
			if _, err := c.next(); err != nil {
				break // closed, as the library does
			}
		}
		// The library closes the connection before the relay's listener runs: wait for the line.
		const marker = "connection closed after a packet outside its namespaces"
		deadline := time.Now().Add(servertest.Timeout)
		for strings.Count(logs.String(), marker) == before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		var lines []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, marker) {
				lines = append(lines, l)
			}
		}
		if len(lines) != before+1 {
			t.Errorf("%s: %d log lines for the close, want 1; log:\n%s", tc.name, len(lines)-before, logs)
			continue
		}
		if l := lines[before]; !strings.Contains(l, "level=WARN") || !strings.Contains(l, "address=127.0.0.1") || !strings.Contains(l, tc.reason) {
			t.Errorf("%s: log line %q, want level WARN, the address and %q", tc.name, l, tc.reason)
		}
	}
	bystander.send(`42/relay,1["register",{"sessionId":"s-bystander","cwd":"/home/ada"}]`)
	if ack := bystander.expect(`3/relay,1[`); !strings.Contains(ack, `"sessionId":"s-bystander"`) {
		t.Fatalf("register on another connection: %s", ack)
	}
}

// rawOpen opens a websocket to n that has joined no namespace yet.
func rawOpen(t *testing.T, n *servertest.Node) *rawConn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &rawConn{t: t, ws: ws}
	c.expect("0{")
	return c
}
