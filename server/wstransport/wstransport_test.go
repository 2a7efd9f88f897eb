package wstransport_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/server/wstransport"
)

// testServer is a Socket.IO server on the transport, its polling requests guarded by
// GuardPolling (a body must arrive within a second): namespace /big raises its connections'
// limit to 4 MiB, sends "ready" once a socket is connected, and answers "msg" with "len" (the
// length of the string it got); "burst" makes the server send n numbered events.
type testServer struct {
	url    string
	log    *syncbuf.Buffer
	limits *wstransport.Limits
}

const small, raised = 16 << 10, 4 << 20

func startServer(t *testing.T, budget int64, wait time.Duration) *testServer {
	t.Helper()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	limits := wstransport.NewLimits(small, budget, wait)
	o := socket.DefaultServerOptions()
	o.SetTransports(types.NewSet[transports.TransportCtor](socket.Polling, wstransport.NewBuilder(wstransport.Options{
		Limits:       limits,
		WriteTimeout: 10 * time.Second,
		Logger:       logger,
	})))
	o.SetMaxHttpBufferSize(small)
	io := socket.NewServer(nil, o)
	big := io.Of("/big", nil)
	big.Use(func(s *socket.Socket, next func(*socket.ExtendedError)) {
		limits.Raise(s.Conn(), raised)
		next(nil)
	})
	_ = big.On("connection", func(a ...any) {
		s := a[0].(*socket.Socket)
		_ = s.On("msg", func(a ...any) {
			str, _ := a[0].(string)
			_ = s.Emit("len", len(str))
		})
		_ = s.On("burst", func(a ...any) {
			n, _ := a[0].(float64)
			for i := range int(n) {
				_ = s.Emit("n", i)
			}
		})
		_ = s.Emit("ready")
	})
	srv := httptest.NewServer(wstransport.GuardPolling(wstransport.PollingOptions{Limits: limits, Logger: logger, BodyTimeout: time.Second, ResponseTimeout: time.Minute}, wstransport.ReleaseResponses(io.ServeHandler(nil))))
	t.Cleanup(func() {
		io.Close(nil)
		srv.Close()
	})
	return &testServer{url: srv.URL, log: logs, limits: limits}
}

// client is a raw websocket client speaking Engine.IO v4 and Socket.IO v5 by hand.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, s *testServer) *client {
	t.Helper()
	return dialURL(t, s.url)
}

// dialURL opens a websocket Engine.IO session on the server at url and reads its open packet.
func dialURL(t *testing.T, url string) *client {
	t.Helper()
	u := "ws" + strings.TrimPrefix(url, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	c := &client{t: t, ws: ws}
	if open := c.next(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	return c
}

// next returns the next Engine.IO packet, answering pings.
func (c *client) next() string {
	c.t.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if string(b) == "2" {
			c.send("3")
			continue
		}
		return string(b)
	}
}

func (c *client) send(pkt string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(pkt)); err != nil {
		c.t.Fatal(err)
	}
}

// connectBig connects the client's namespace /big and waits until the server is ready for its
// events: the library sends the CONNECT answer before it records the socket of the namespace,
// and closes the connection on an event that arrives in between.
func (c *client) connectBig() {
	c.t.Helper()
	c.send("40/big,")
	if got := c.next(); !strings.HasPrefix(got, "40/big,{") {
		c.t.Fatalf("connect: %q", got)
	}
	if got := c.next(); got != `42/big,["ready"]` {
		c.t.Fatalf("ready: %q", got)
	}
}

// closeCode reads until the connection ends and returns the close status the server sent.
func (c *client) closeCode() int {
	c.t.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := c.ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

// writeHeader writes the header of a masked text frame announcing n bytes, and the first part
// of its payload, straight to the connection.
func (c *client) writeHeader(n int, part string) {
	c.t.Helper()
	h := []byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(h[2:], uint64(n))
	if _, err := c.ws.NetConn().Write(append(h, part...)); err != nil { // zero mask: plain bytes
		c.t.Fatal(err)
	}
}

// waitLog waits until the server's log contains s.
func waitLog(t *testing.T, s *testServer, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if l := s.log.String(); strings.Contains(l, want) {
			return l
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("log never contained %q:\n%s", want, s.log.String())
	return ""
}

// TestUnauthenticatedLargeMessageRefused: a connection that has authenticated nothing and
// announces a 50 MiB frame is closed with 1009 as soon as the header arrives (the payload is
// never sent, so nothing was buffered), and the refusal is logged at warn with the address.
func TestUnauthenticatedLargeMessageRefused(t *testing.T) {
	s := startServer(t, 8<<20, time.Second)
	c := dial(t, s)
	c.writeHeader(50<<20, "4")
	if code := c.closeCode(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	l := waitLog(t, s, "websocket message refused")
	if !strings.Contains(l, "level=WARN") || !strings.Contains(l, "address=127.0.0.1:") || !strings.Contains(l, "size=52428800") {
		t.Errorf("log line: %s", l)
	}

	// A message within the small limit is fine, and so is the connection sending it.
	c2 := dial(t, s)
	c2.connectBig()
	c2.send(`42/big,["msg","` + strings.Repeat("x", small-100) + `"]`)
	if got := c2.next(); got != `42/big,["len",`+strconv.Itoa(small-100)+`]` {
		t.Fatalf("small message: %q", got)
	}
}

// TestRaisedLimit: once a socket of the connection authenticated, the connection may send
// messages up to the raised limit, in one frame or in fragments, and no more.
func TestRaisedLimit(t *testing.T) {
	s := startServer(t, 8<<20, time.Second)
	c := dial(t, s)
	c.connectBig()
	payload := strings.Repeat("y", 2<<20)
	c.send(`42/big,["msg","` + payload + `"]`)
	if got := c.next(); got != `42/big,["len",2097152]` {
		t.Fatalf("large message: %q", got)
	}
	// Fragmented: three frames of one message.
	w, err := c.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`42/big,["msg","`, payload[:1<<20], payload[1<<20:] + `"]`} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := c.next(); got != `42/big,["len",2097152]` {
		t.Fatalf("fragmented message: %q", got)
	}
	c.writeHeader(raised+1, "4")
	if code := c.closeCode(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
}

// TestBudgetSharedAcrossConnections: large messages are read within one budget for all
// connections: while one connection holds most of it, another's large message waits and is
// refused when the budget does not free up in time; the first completes normally.
func TestBudgetSharedAcrossConnections(t *testing.T) {
	s := startServer(t, 3<<20, 300*time.Millisecond)
	a, b := dial(t, s), dial(t, s)
	a.connectBig()
	b.connectBig()
	payload := strings.Repeat("z", 2<<20)
	msg := `42/big,["msg","` + payload + `"]`
	a.writeHeader(len(msg), msg[:10])
	waitInFlight(t, s, int64(len(msg)))
	b.send(msg)
	if code := b.closeCode(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	waitLog(t, s, "the budget for large messages is spent")
	if _, err := a.ws.NetConn().Write([]byte(msg[10:])); err != nil {
		t.Fatal(err)
	}
	if got := a.next(); got != `42/big,["len",2097152]` {
		t.Fatalf("held message: %q", got)
	}
	waitInFlight(t, s, 0)
}

// waitInFlight waits until n bytes of large messages are being read.
func waitInFlight(t *testing.T, s *testServer, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.limits.InFlight() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes in flight, want %d", s.limits.InFlight(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOrderPingAndClose: a burst arrives complete and in order, a websocket ping gets its
// pong, and a close frame gets a close frame back.
func TestOrderPingAndClose(t *testing.T) {
	s := startServer(t, 8<<20, time.Second)
	c := dial(t, s)
	c.connectBig()
	pong := make(chan string, 1)
	c.ws.SetPongHandler(func(data string) error { pong <- data; return nil })
	if err := c.ws.WriteControl(websocket.PingMessage, []byte("hello"), time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	c.send(`42/big,["burst",` + strconv.Itoa(n) + `]`)
	for i := range n {
		if got, want := c.next(), fmt.Sprintf(`42/big,["n",%d]`, i); got != want {
			t.Fatalf("event %d: %q, want %q", i, got, want)
		}
	}
	select {
	case p := <-pong:
		if p != "hello" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no pong")
	}
	if err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"), time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if code := c.closeCode(); code != websocket.CloseGoingAway {
		t.Fatalf("close reply %d, want 1001", code)
	}
}
