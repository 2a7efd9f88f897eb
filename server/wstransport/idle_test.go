package wstransport_test

import (
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/pizzapi/pizzapi/server/wstransport"
)

// idleServer is a Socket.IO server on the transport with namespace /idle. Every Engine.IO packet
// a client sends runs a listener on the transport's reader that uses deepStack bytes of stack,
// as the engine's, the parser's and the relay's handlers do on a smaller scale. Each connected
// socket reports whether the engine's request still refers to the library's websocket, and
// each disconnect its reason.
type idleServer struct {
	url          string
	connected    chan bool   // the request still holds the library's websocket
	disconnected chan string // reasons
}

const deepStack = 256 << 10

func startIdleServer(t *testing.T, pingInterval, pingTimeout time.Duration) *idleServer {
	t.Helper()
	o := socket.DefaultServerOptions()
	o.SetTransports(types.NewSet[transports.TransportCtor](socket.Polling, wstransport.NewBuilder(wstransport.Options{
		Limits:       wstransport.NewLimits(small, 8<<20, time.Second),
		WriteTimeout: 10 * time.Second,
		Logger:       slog.New(slog.DiscardHandler),
	})))
	o.SetPingInterval(pingInterval)
	o.SetPingTimeout(pingTimeout)
	io := socket.NewServer(nil, o)
	s := &idleServer{connected: make(chan bool, 1000), disconnected: make(chan string, 1000)}
	nsp := io.Of("/idle", nil)
	_ = nsp.On("connection", func(a ...any) {
		sock := a[0].(*socket.Socket)
		_ = sock.On("disconnect", func(a ...any) {
			reason, _ := a[0].(string)
			s.disconnected <- reason
		})
		s.connected <- sock.Conn().Request().Websocket != nil
	})
	h := io.ServeHandler(nil) // creates the engine
	_ = io.Engine().On("connection", func(a ...any) {
		if conn, ok := a[0].(engine.Socket); ok {
			_ = conn.On("packet", func(...any) { useStack(deepStack / 1024) })
		}
	})
	srv := httptest.NewServer(wstransport.ReleaseResponses(h))
	s.url = srv.URL
	t.Cleanup(func() {
		io.Close(nil)
		srv.Close()
	})
	return s
}

// useStack uses about n KiB of the goroutine's stack.
//
//go:noinline
func useStack(n int) byte {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	if n <= 1 {
		return pad[0]
	}
	return useStack(n-1) + pad[n%len(pad)]
}

// dialIdle opens a websocket session and connects namespace /idle; the connection is not read
// after that, so the client holds no goroutine.
func dialIdle(t *testing.T, s *idleServer) *client {
	t.Helper()
	c := dialURL(t, s.url)
	c.send("40/idle,")
	if got := c.next(); !strings.HasPrefix(got, "40/idle,{") {
		t.Fatalf("connect: %q", got)
	}
	return c
}

// TestIdleConnectionCost: an idle connection costs the server one goroutine, the reader (the
// engine's ping timer holds none), on a small stack although the handlers of the packets it
// read used 256 KiB of stack, and the library's websocket with its buffers is released.
func TestIdleConnectionCost(t *testing.T) {
	s := startIdleServer(t, time.Minute, time.Minute)
	dialIdle(t, s) // warms up the server: its first connection starts shared goroutines
	<-s.connected
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	const n = 100
	for range n {
		dialIdle(t, s)
		if <-s.connected {
			t.Fatal("the engine's request still refers to the library's websocket")
		}
	}
	// The goroutines that read each connect end once their successor parked.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine()-goroutines > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle connections: %d more goroutines, want at most one each", n, runtime.NumGoroutine()-goroutines)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Two collections free the stacks of the goroutines that ended; the runtime would also
	// halve a parked goroutine's large stack at each, not more.
	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perConn := (int64(after.StackInuse) - int64(before.StackInuse)) / n
	t.Logf("%d bytes of stack per idle connection", perConn)
	if perConn > 16<<10 {
		t.Fatalf("%d bytes of stack per idle connection, want at most 16 KiB", perConn)
	}
}

// TestHeartbeat: the engine's ping timer still works without its goroutine: a client that
// answers pings stays connected through many intervals, one that stops answering is sent a
// ping and then closed with "ping timeout".
func TestHeartbeat(t *testing.T) {
	s := startIdleServer(t, 50*time.Millisecond, 200*time.Millisecond)
	answering := dialIdle(t, s)
	<-s.connected
	silent := dialIdle(t, s)
	<-s.connected

	pinged := make(chan error, 1)
	go func() {
		for {
			_ = silent.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, b, err := silent.ws.ReadMessage()
			if err != nil {
				pinged <- err
				return
			}
			if string(b) == "2" {
				pinged <- nil
			}
		}
	}()
	// The answering client goes through 20 ping intervals while the silent one is dropped.
	var pings int
	for pings < 20 {
		_ = answering.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, b, err := answering.ws.ReadMessage()
		if err != nil {
			t.Fatalf("answering client after %d pings: %v", pings, err)
		}
		if string(b) == "2" {
			pings++
			answering.send("3")
		}
	}
	if err := <-pinged; err != nil {
		t.Fatalf("silent client closed before any ping: %v", err)
	}
	select {
	case reason := <-s.disconnected:
		if reason != "ping timeout" {
			t.Fatalf("disconnect reason %q, want ping timeout", reason)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the silent client was never disconnected")
	}
	for err := range pinged {
		if err != nil {
			break // the connection ended
		}
	}
	answering.send("42/idle,[\"still\"]")
	select {
	case reason := <-s.disconnected:
		t.Fatalf("answering client disconnected: %s", reason)
	default:
	}
}
