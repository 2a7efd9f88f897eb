package sio

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/pizzapi/pizzapi/server/wstransport"
)

// waitLimit bounds every wait of these tests; nothing is timed.
const waitLimit = 30 * time.Second

// seen is what a namespace's middleware saw of a CONNECT: the handshake the library built (from
// the engine's retained request, trimmed by an earlier CONNECT or not) and the relay's handshake
// after trimRequest.
type seen struct {
	nsp                 string
	cookie, origin      string // of the library's handshake headers
	sessionID, url      string
	address             string
	xdomain             bool
	relayCookie         string // the session cookie as the relay's authentication reads it
	relaySession, relay string // sessionId of the relay's query, the relay's address
}

// handshakeServer is a Socket.IO server on the relay's transports (polling, wstransport behind
// ReleaseResponses) with namespaces /a, /b and /c whose middleware runs trimRequest as the
// relay's does (when trim is set) and reports what it saw; each connected socket is reported too.
type handshakeServer struct {
	url       string
	seen      chan seen
	connected chan *socket.Socket
	// observe, when set before the first request, is told of every request the server gets.
	observe func(*http.Request)
}

func startHandshakeServer(t *testing.T, trim bool) *handshakeServer {
	t.Helper()
	o := socket.DefaultServerOptions()
	o.SetTransports(types.NewSet[transports.TransportCtor](socket.Polling, wstransport.NewBuilder(wstransport.Options{
		Limits:       wstransport.NewLimits(1<<20, 8<<20, time.Second),
		WriteTimeout: 10 * time.Second,
		Logger:       slog.New(slog.DiscardHandler),
	})))
	o.SetPingInterval(time.Minute)
	o.SetPingTimeout(time.Minute)
	o.SetCors(&types.Cors{Origin: "http://viewer.example", Credentials: true})
	io := socket.NewServer(nil, o)
	s := &handshakeServer{seen: make(chan seen, 1000), connected: make(chan *socket.Socket, 1000)}
	for _, name := range []string{"/a", "/b", "/c"} {
		nsp := io.Of(name, nil)
		nsp.Use(func(sock *socket.Socket, next func(*socket.ExtendedError)) {
			hs := sock.Handshake()
			sn := seen{nsp: name, sessionID: first(hs.Query["sessionId"]), url: hs.Url, address: hs.Address, xdomain: hs.Xdomain,
				cookie: first(hs.Headers["Cookie"]), origin: first(hs.Headers["Origin"])}
			if trim {
				trimRequest(sock)
			}
			rh := handshakeOf(sock)
			if c, err := rh.request.Cookie("pizzapi_session"); err == nil {
				sn.relayCookie = c.Value
			}
			sn.relaySession, sn.relay = rh.query.Get("sessionId"), rh.address
			s.seen <- sn
			next(nil)
		})
		_ = nsp.On("connection", func(a ...any) { s.connected <- a[0].(*socket.Socket) })
	}
	h := wstransport.ReleaseResponses(io.ServeHandler(nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.observe != nil {
			s.observe(r)
		}
		h.ServeHTTP(w, r)
	}))
	s.url = srv.URL
	t.Cleanup(func() {
		io.Close(nil)
		srv.Close()
	})
	return s
}

// first is the first string of a handshake header or query value ([]string as any).
func first(v any) string {
	if ss, ok := v.([]string); ok && len(ss) > 0 {
		return ss[0]
	}
	return ""
}

// clientHeader is what every test client sends with its first request.
func clientHeader() http.Header {
	return http.Header{
		"Cookie":          {"pizzapi_session=tok-1; other=x"},
		"Origin":          {"http://viewer.example"},
		"User-Agent":      {"handshake-test " + strings.Repeat("x", 200)},
		"Accept-Language": {"en-US,en;q=0.9"},
	}
}

// wsConn is a raw Engine.IO websocket client.
type wsConn struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialWS(t *testing.T, base, query string, h http.Header) *wsConn {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket&"+query, h)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	return &wsConn{t: t, ws: ws}
}

func (c *wsConn) send(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsConn) next() string {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(waitLimit))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

// connect sends a namespace CONNECT and reads its answer.
func (c *wsConn) connect(nsp string) {
	c.t.Helper()
	c.send("40" + nsp + ",")
	if got := c.next(); !strings.HasPrefix(got, "40"+nsp+",{") {
		c.t.Fatalf("connect %s: %q", nsp, got)
	}
}

// polling requests path ("?EIO=4&transport=polling..." appended) with method and body.
func polling(t *testing.T, base, method, query, body string, h http.Header) string {
	t.Helper()
	req, err := http.NewRequest(method, base+"/socket.io/?EIO=4&transport=polling&"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %q %v", method, query, resp.StatusCode, b, err)
	}
	return string(b)
}

// checkSeen: every CONNECT, the first of a connection and the later ones built from a trimmed
// request, saw the client's cookie, origin, query, address and URL.
func checkSeen(t *testing.T, s *handshakeServer, nsps ...string) {
	t.Helper()
	for _, nsp := range nsps {
		var sn seen
		select {
		case sn = <-s.seen:
		case <-time.After(waitLimit):
			t.Fatalf("no CONNECT of %s", nsp)
		}
		if sn.nsp != nsp || sn.cookie != "pizzapi_session=tok-1; other=x" || sn.origin != "http://viewer.example" || !sn.xdomain ||
			sn.sessionID != "s-1" || !strings.Contains(sn.url, "sessionId=s-1") || !strings.HasPrefix(sn.address, "127.0.0.1") ||
			sn.relayCookie != "tok-1" || sn.relaySession != "s-1" || sn.relay != sn.address {
			t.Fatalf("CONNECT %s saw %+v", nsp, sn)
		}
	}
}

// checkRetained: the engine's retained request of s's connection is the trimmed one once its
// first request is finished: the kept headers, the query, no body, a finished context.
func checkRetained(t *testing.T, s *socket.Socket) {
	t.Helper()
	ctx := s.Conn().Request()
	select {
	case <-ctx.Done():
	case <-time.After(waitLimit):
		t.Fatal("the connection's first request never finished")
	}
	r := ctx.Request()
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if r.Body != nil || !slices.Equal(keys, []string{"Cookie", "Origin"}) || r.URL.Query().Get("sessionId") != "s-1" || ctx.Context().Err() == nil {
		t.Fatalf("retained request: body %v, headers %v, query %q, context error %v", r.Body != nil, keys, r.URL.RawQuery, ctx.Context().Err())
	}
	if got := ctx.Headers().Peek("User-Agent"); got != "" {
		t.Fatalf("retained request still has the user agent %q", got)
	}
}

func nextSocket(t *testing.T, s *handshakeServer) *socket.Socket {
	t.Helper()
	select {
	case sock := <-s.connected:
		return sock
	case <-time.After(waitLimit):
		t.Fatal("no connection")
		return nil
	}
}

// TestHandshakeTrimmedOnWebsocket: a websocket connection's first CONNECT trims the request the
// engine keeps; later CONNECTs on the connection still see the cookie, origin, query, address
// and URL, in the library's handshake and the relay's.
func TestHandshakeTrimmedOnWebsocket(t *testing.T) {
	s := startHandshakeServer(t, true)
	c := dialWS(t, s.url, "sessionId=s-1", clientHeader())
	if got := c.next(); !strings.HasPrefix(got, "0{") {
		t.Fatalf("open: %q", got)
	}
	c.connect("/a")
	checkSeen(t, s, "/a")
	checkRetained(t, nextSocket(t, s))
	c.connect("/b")
	checkSeen(t, s, "/b")
	checkRetained(t, nextSocket(t, s))
}

// TestHandshakeTrimmedOnPolling: the same for a connection that starts on long-polling and
// upgrades to the websocket, with a CONNECT before and one after the upgrade.
func TestHandshakeTrimmedOnPolling(t *testing.T) {
	s := startHandshakeServer(t, true)
	open := polling(t, s.url, http.MethodGet, "sessionId=s-1", "", clientHeader())
	i := strings.Index(open, `"sid":"`)
	if !strings.HasPrefix(open, "0{") || i < 0 {
		t.Fatalf("open: %q", open)
	}
	sid := open[i+7 : i+7+strings.Index(open[i+7:], `"`)]
	q := "sessionId=s-1&sid=" + sid
	polling(t, s.url, http.MethodPost, q, "40/a,", nil)
	if got := polling(t, s.url, http.MethodGet, q, "", nil); !strings.HasPrefix(got, "40/a,{") {
		t.Fatalf("connect /a: %q", got)
	}
	checkSeen(t, s, "/a")
	checkRetained(t, nextSocket(t, s))
	polling(t, s.url, http.MethodPost, q, "40/b,", nil)
	if got := polling(t, s.url, http.MethodGet, q, "", nil); !strings.HasPrefix(got, "40/b,{") {
		t.Fatalf("connect /b: %q", got)
	}
	checkSeen(t, s, "/b")
	checkRetained(t, nextSocket(t, s))

	// A poll is pending during the upgrade, as socket.io-client's; the engine ends it.
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		if resp, err := http.Get(s.url + "/socket.io/?EIO=4&transport=polling&" + q); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}()
	c := dialWS(t, s.url, q, nil)
	c.send("2probe")
	if got := c.next(); got != "3probe" {
		t.Fatalf("probe: %q", got)
	}
	c.send("5")
	<-polled
	c.connect("/c")
	checkSeen(t, s, "/c")
	checkRetained(t, nextSocket(t, s))
}

// TestIdleConnectionRetainsNoRequest: once an idle connection's first request has finished, no
// *http.Request of it stays reachable when the request is trimmed, while the library's full
// request keeps every one (so the test can tell). Reachability is read with weak pointers after a
// collection, not from heap sizes, which other goroutines and the race detector move by more
// than the ~2 KiB a request costs; the heap per connection is logged for people.
func TestIdleConnectionRetainsNoRequest(t *testing.T) {
	const n = 200
	full := idleConnections(t, false, n)
	if alive := full.alive(); alive != len(full.requests) {
		t.Fatalf("untrimmed: %d of %d requests reachable, want all (the library keeps them; the test cannot tell otherwise)", alive, len(full.requests))
	}
	trimmed := idleConnections(t, true, n)
	deadline := time.Now().Add(waitLimit)
	for trimmed.alive() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("trimmed: %d of %d idle connections still keep their first request", trimmed.alive(), len(trimmed.requests))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("live heap per idle connection (server and client): %d bytes with the full request, %d trimmed", full.heap, trimmed.heap)
}

// idle is a batch of idle connections: weak pointers to their first requests, and the live heap
// each added.
type idle struct {
	mu       sync.Mutex
	requests []weak.Pointer[http.Request]
	heap     int64
}

// alive collects garbage and counts the requests still reachable.
func (c *idle) alive() int {
	runtime.GC()
	c.mu.Lock()
	defer c.mu.Unlock()
	alive := 0
	for _, w := range c.requests {
		if w.Value() != nil {
			alive++
		}
	}
	return alive
}

// idleConnections opens n idle websocket connections, each with one namespace, to a handshake
// server that trims (or not), after one that warms up the server's shared state, and waits until
// each connection's first request has finished.
func idleConnections(t *testing.T, trim bool, n int) *idle {
	s := startHandshakeServer(t, trim)
	c := &idle{}
	s.observe = func(r *http.Request) {
		c.mu.Lock()
		c.requests = append(c.requests, weak.Make(r))
		c.mu.Unlock()
	}
	connectIdle := func() {
		ws := dialWS(t, s.url, "sessionId=s-1", clientHeader())
		_ = ws.next()
		ws.connect("/a")
		<-s.seen
		ctx := nextSocket(t, s).Conn().Request()
		select {
		case <-ctx.Done():
		case <-time.After(waitLimit):
			t.Fatal("the connection's first request never finished")
		}
	}
	connectIdle()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		connectIdle()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	c.heap = (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(n)
	return c
}
