package wstransport_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/pizzapi/pizzapi/internal/syncbuf"
	"github.com/pizzapi/pizzapi/server/wstransport"
)

// upgradeServer is a Socket.IO server on the transport whose namespace /up hands its sockets to
// the test, and which counts the frames the engine flushed to a transport (its generic path).
type upgradeServer struct {
	url     string
	sockets chan *socket.Socket
	flushed atomic.Int64 // packets carrying a Frame that went through the engine's flush
}

func startUpgradeServer(t testing.TB, pingInterval time.Duration) *upgradeServer {
	t.Helper()
	o := socket.DefaultServerOptions()
	o.SetTransports(types.NewSet[transports.TransportCtor](socket.Polling, wstransport.NewBuilder(wstransport.Options{
		Limits:       wstransport.NewLimits(small, 8<<20, time.Second),
		WriteTimeout: 10 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(&syncbuf.Buffer{}, nil)),
	})))
	o.SetPingInterval(pingInterval)
	o.SetPingTimeout(10 * time.Second)
	io := socket.NewServer(nil, o)
	s := &upgradeServer{sockets: make(chan *socket.Socket, 16)}
	_ = io.Of("/up", nil).On("connection", func(a ...any) { s.sockets <- a[0].(*socket.Socket) })
	srv := httptest.NewServer(wstransport.ReleaseResponses(io.ServeHandler(nil)))
	_ = io.Engine().On("flush", func(a ...any) {
		for _, p := range a[1].([]*packet.Packet) {
			if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
				s.flushed.Add(1)
			}
		}
	})
	t.Cleanup(func() {
		io.Close(nil)
		srv.Close()
	})
	s.url = srv.URL
	return s
}

// relayWrite writes a frame to a socket as the relay's peers do (server/sio): straight to the
// websocket when wstransport.Direct allows it, else through the engine. It reports whether the
// frame was written directly.
func relayWrite(conn engine.Socket, f *wstransport.Frame) bool {
	if w, ok := wstransport.Direct(conn); ok && w.WriteFrame(f) {
		return true
	}
	conn.Write(strings.NewReader(f.Packet()), f.Options(), nil)
	return false
}

func numberedEvent(i int) *wstransport.Frame {
	return wstransport.NewFrame(32, func(dst []byte) []byte {
		return append(strconv.AppendInt(append(dst, `2/up,["n",`...), int64(i), 10), ']')
	})
}

// poll is one HTTP long-polling request of the session sid: a GET, or a POST of body.
func poll(t testing.TB, base, sid, body string) string {
	t.Helper()
	u := base + "/socket.io/?EIO=4&transport=polling"
	if sid != "" {
		u += "&sid=" + sid
	}
	var resp *http.Response
	var err error
	if body == "" {
		resp, err = http.Get(u)
	} else {
		resp, err = http.Post(u, "text/plain;charset=UTF-8", strings.NewReader(body))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("polling %s: %d %q %v", u, resp.StatusCode, b, err)
	}
	return string(b)
}

// connectPolling starts a session on polling, connects namespace /up on it and returns the
// session's id and the server's side of it.
func (s *upgradeServer) connectPolling(t testing.TB) (sid string, conn engine.Socket) {
	t.Helper()
	open := poll(t, s.url, "", "")
	const key = `"sid":"`
	i := strings.Index(open, key)
	if !strings.HasPrefix(open, "0{") || i < 0 {
		t.Fatalf("open packet %q", open)
	}
	sid = open[i+len(key):]
	sid = sid[:strings.IndexByte(sid, '"')]
	if got := poll(t, s.url, sid, "40/up,"); got != "ok" {
		t.Fatalf("connect post: %q", got)
	}
	if got := poll(t, s.url, sid, ""); !strings.HasPrefix(got, "40/up,{") {
		t.Fatalf("connect answer: %q", got)
	}
	select {
	case sock := <-s.sockets:
		return sid, sock.Conn()
	case <-time.After(30 * time.Second):
		t.Fatal("no connection on /up")
		return "", nil
	}
}

// TestUpgradedSessionWrittenDirectly: a session that starts on polling, connects a namespace
// there, and upgrades to the websocket while the relay writes to it without pause, gets every
// event in order: those the engine held during the upgrade first, then those written once it
// upgraded. After the upgrade the session's transport is the relay's and the relay writes to it
// directly, as to a session that started on the websocket: the engine flushes no more of its
// frames. The heartbeat goes on over the websocket, and a close from the server ends it.
func TestUpgradedSessionWrittenDirectly(t *testing.T) {
	// A short ping interval, so that the heartbeat runs on the upgraded websocket during the test.
	s := startUpgradeServer(t, 100*time.Millisecond)
	sid, conn := s.connectPolling(t)
	u := "ws" + strings.TrimPrefix(s.url, "http") + "/socket.io/?EIO=4&transport=websocket&sid=" + sid
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	c := &client{t: t, ws: ws}
	c.send("2probe")
	if got := c.next(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}

	// The relay writes events 0, 1, ... without pause from here on: no poll is pending, so the
	// engine holds them until the upgrade; the client upgrades once 100 were written, and the
	// writer stops 1,000 events after the first one written directly.
	const afterUpgrade = 1000
	var engineWrites, directWrites int
	written := make(chan int, 1)
	midway := make(chan struct{})
	go func() {
		n := 0
		for ; directWrites < afterUpgrade && n < 200_000; n++ {
			if relayWrite(conn, numberedEvent(n)) {
				directWrites++
			} else {
				engineWrites++
			}
			if n == 100 {
				close(midway)
			}
		}
		written <- n
	}()
	<-midway
	if conn.Upgraded() {
		t.Fatal("upgraded before the upgrade packet")
	}
	c.send("5")
	var total int
	for i := 0; total == 0 || i < total; i++ {
		got := c.next()
		if want := fmt.Sprintf(`42/up,["n",%d]`, i); got != want {
			t.Fatalf("event %d: %q, want %q", i, got, want)
		}
		if total == 0 {
			select {
			case total = <-written:
			default:
			}
		}
	}
	if !conn.Upgraded() {
		t.Fatal("session not upgraded")
	}
	if _, _, ok := wstransport.Backlog(conn.Transport()); !ok {
		t.Fatalf("upgraded session's transport is %T, not the relay's", conn.Transport())
	}
	if directWrites != afterUpgrade {
		t.Fatalf("upgraded session never written directly (%d events through the engine)", engineWrites)
	}
	if f := s.flushed.Load(); f != int64(engineWrites) {
		t.Errorf("engine flushed %d frames, the relay wrote %d through it", f, engineWrites)
	}
	t.Logf("%d events through the engine (held during the upgrade), %d written directly", engineWrites, directWrites)

	// The heartbeat runs on the websocket (c.next answers the engine's pings); then the server
	// closes the session.
	pings := 0
	for pings < 3 {
		_ = c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !bytes.Equal(b, []byte("2")) {
			t.Fatalf("while waiting for pings: %q", b)
		}
		c.send("3")
		pings++
	}
	conn.Close(false)
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := c.ws.ReadMessage(); err != nil {
			break
		}
	}
}

// BenchmarkBroadcast writes one frame to each of 100 sessions per operation, the way the relay
// fans an event out: to sessions that started on the websocket, to sessions upgraded from polling
// (written directly since the upgrade), and to upgraded sessions written through the engine (the
// relay's path for them before Direct took upgraded sessions). The clients discard what they read.
func BenchmarkBroadcast(b *testing.B) {
	const sessions = 100
	for _, bc := range []struct {
		name            string
		upgraded, force bool
	}{{"websocket", false, false}, {"upgraded", true, false}, {"upgraded-via-engine", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := startUpgradeServer(b, 25*time.Second)
			conns := make([]engine.Socket, sessions)
			for i := range conns {
				conns[i] = s.connectWebsocket(b, bc.upgraded)
			}
			f := numberedEvent(1)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for _, conn := range conns {
					if bc.force {
						conn.Write(strings.NewReader(f.Packet()), f.Options(), nil)
					} else if !relayWrite(conn, f) {
						b.Fatal("not written directly")
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*sessions), "ns/delivery")
		})
	}
}

// connectWebsocket opens a session on the websocket with namespace /up connected, or one started
// on polling and upgraded; a goroutine discards what the client receives.
func (s *upgradeServer) connectWebsocket(b *testing.B, upgraded bool) engine.Socket {
	b.Helper()
	u := "ws" + strings.TrimPrefix(s.url, "http") + "/socket.io/?EIO=4&transport=websocket"
	var conn engine.Socket
	if upgraded {
		var sid string
		sid, conn = s.connectPolling(b)
		u += "&sid=" + sid
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ws.Close() })
	expect := func(want string) {
		_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, got, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(got), want) {
			b.Fatalf("got %q (%v), want %s...", got, err, want)
		}
	}
	send := func(pkt string) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(pkt)); err != nil {
			b.Fatal(err)
		}
	}
	if upgraded {
		send("2probe")
		expect("3probe")
		send("5")
		for deadline := time.Now().Add(30 * time.Second); !direct(conn); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("not upgraded")
			}
		}
	} else {
		expect("0{")
		send("40/up,")
		expect("40/up,{")
		conn = (<-s.sockets).Conn()
	}
	_ = ws.SetReadDeadline(time.Time{})
	go func() { _, _ = io.Copy(io.Discard, ws.NetConn()) }()
	return conn
}

// direct reports whether the relay writes to a session without the engine.
func direct(conn engine.Socket) bool {
	_, ok := wstransport.Direct(conn)
	return ok
}
